"""The desk application: one ASGI app wiring the citizen side (`bot/`) and the worker side
(`handoff/`): `app` (composition and lifespan), `pages` and `static/` (the widget, inbox and
admin pages), `background` (periodic jobs), `cli` and `model_cli` (scripts/desk).

Run: uvicorn --factory desk.app:create_app
"""
