"""The desk: one ASGI application: widget API and page, Telegram, worker inbox API and page,
the admin pages. What runs while it lives is in lifespan.py; its 422 body in errors.py.

Run: uvicorn --factory desk.app:create_app
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import FastAPI

from bot import telegram_webhook, widget_api
from bot.rasa_client import RasaApi
from desk import errors, health, log_privacy, pages
from desk.body_limit import BodyLimit
from desk.lifespan import lifespan
from handoff.admin import dashboard_api, gemeente_api, privacy_api, teams_api, workers_api
from handoff.config import DeskSettings, settings
from handoff.inbox import api as inbox_api
from handoff.inbox import attachments_api, auth_api, followups_api
from handoff.learning import model_server_api, nlu_inbox_api, registry_api


def create_app(config: DeskSettings | None = None, rasa_client: Callable[[], RasaApi] | None = None) -> FastAPI:
    """The desk. `rasa_client` makes the Rasa client at each start instead of the settings
    (tests give one whose transport is a scripted server, tests/rasa_stub.py)."""
    desk = config or settings()
    log_privacy.install()
    app = FastAPI(title="Baken desk", version="0.1.0", lifespan=lifespan(desk, rasa_client))
    app.include_router(widget_api.router)
    app.include_router(telegram_webhook.router)
    app.include_router(auth_api.router)
    app.include_router(inbox_api.router)
    app.include_router(followups_api.router)
    app.include_router(nlu_inbox_api.router)
    app.include_router(registry_api.router)
    app.include_router(model_server_api.router)
    app.include_router(dashboard_api.router)
    app.include_router(workers_api.router)
    app.include_router(gemeente_api.router)
    app.include_router(privacy_api.router)
    app.include_router(teams_api.router)
    pages.install(app, desk.widget_origin_list())
    app.include_router(attachments_api.router)
    app.include_router(health.router)
    errors.install(app)
    app.add_middleware(BodyLimit, max_bytes=desk.max_request_bytes)
    return app
