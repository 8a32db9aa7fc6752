"""The desk: one ASGI application (widget API now; Telegram, inbox and admin to follow).

Run: uvicorn --factory handoff.app:create_app
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import yaml
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import text

from baken_core.paths import data_dir
from bot import telegram_webhook, widget_api
from bot.rasa_client import RasaClient
from bot.routing import Router
from bot.telegram_webhook import start_telegram, stop_telegram
from handoff import auth, inbox_api
from handoff.db import create_engine, session_factory
from handoff.events import EventBus
from handoff.migrate import upgrade
from handoff.office_hours import OfficeHours
from handoff.settings import DeskSettings, settings


def create_app(config: DeskSettings | None = None) -> FastAPI:
    desk = config or settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        upgrade(desk.database_url)
        engine = create_engine(desk.database_url)
        gemeente = yaml.safe_load((data_dir() / "gemeente.yml").read_text(encoding="utf-8"))
        rasa = RasaClient(desk.rasa_url, timeout_s=desk.rasa_timeout_s)
        app.state.engine = engine
        app.state.rasa = rasa
        app.state.bus = EventBus()
        app.state.router = Router(
            session_factory(engine), rasa, OfficeHours.from_settings(gemeente["opening_hours"]), app.state.bus
        )
        app.state.secret_key = auth.secret_key(
            desk.secret_key.get_secret_value() if desk.secret_key else None, Path(desk.secret_key_file)
        )
        app.state.telegram = await start_telegram(desk, app.state.router)
        yield
        if app.state.telegram is not None:
            await stop_telegram(app.state.telegram)
        await rasa.close()
        engine.dispose()

    app = FastAPI(title="Baken desk", version="0.1.0", lifespan=lifespan)
    app.include_router(widget_api.router)
    app.include_router(telegram_webhook.router)
    app.include_router(inbox_api.router)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [
            {"where": ".".join(str(p) for p in error.get("loc", ())), "problem": error.get("msg", "")}
            for error in exc.errors()
        ]
        return JSONResponse(
            status_code=422,
            content={"detail": "Het verzoek klopt niet. Controleer de velden.", "problems": problems},
        )

    @app.get("/healthz", tags=["health"], summary="Desk, database and Rasa")
    async def healthz(request: Request) -> JSONResponse:
        database = True
        try:
            with request.app.state.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception:
            database = False
        rasa = await request.app.state.rasa.healthy()
        body: dict[str, Any] = {
            "desk": "ok",
            "database": "ok" if database else "down",
            "rasa": "ok" if rasa else "down",
        }
        return JSONResponse(body, status_code=200 if database else 503)

    return app
