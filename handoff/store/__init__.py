"""The conversation store: SQLAlchemy 2 typed tables (`models`), Alembic migrations
(`migrations/`, applied by `migrate`), and the one service module that changes a
conversation's or handoff's status (`conversations`: bot → queued → with_worker → closed).
Runs on SQLite (embedded default, WAL mode) and PostgreSQL. Imports nothing above it.
"""
