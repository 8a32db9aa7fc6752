"""The admin's pages: the dashboard (`dashboard`, `charts`, `dashboard_api`), worker
accounts (`workers_api`) and the gemeente's own settings: office hours, wijkteam contact,
standard replies (`gemeente_api`, writing data/gemeente.yml)."""
