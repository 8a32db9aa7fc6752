"""The desk: one ASGI application: widget API and page, Telegram, worker inbox API and page.

Run: uvicorn --factory desk.app:create_app
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from baken_core.gemeente import gemeente
from baken_core.paths import PROJECT_ROOT
from baken_core.rasa_endpoints import tracker_database
from bot import telegram_webhook, widget_api
from bot.rasa_client import RasaClient
from bot.routing import Dispatcher
from bot.telegram_webhook import start_telegram, stop_telegram
from desk import pages
from desk.background import Periodic
from handoff import auth
from handoff.admin import dashboard_api, gemeente_api, workers_api
from handoff.config import DeskSettings, settings
from handoff.deps import DeskState, LearningState, desk_state
from handoff.inbox import api as inbox_api
from handoff.inbox import attachments_api, auth_api
from handoff.learning import model_registry, nlu_inbox, nlu_inbox_api, registry_api, training_job
from handoff.store import processing, tracker_retention
from handoff.store.attachments import AttachmentStore
from handoff.store.db import create_engine, session_factory
from handoff.store.events import EventBus
from handoff.store.migrate import upgrade
from handoff.store.models import Channel
from handoff.store.office_hours import HoursInForce, OfficeHours

log = logging.getLogger(__name__)


class Problem(BaseModel):
    where: str
    problem: str


class InvalidRequest(BaseModel):
    """The body of every 422: one sentence for people and, when fields are malformed, which.
    (A handler that refuses a well-formed value itself sends the sentence only.)"""

    detail: str
    problems: list[Problem] = []


def create_app(config: DeskSettings | None = None, rasa_client: Callable[[], RasaClient] | None = None) -> FastAPI:
    """The desk. `rasa_client` makes the Rasa client at each start instead of the settings
    (tests give one whose transport is a scripted server, tests/rasa_stub.py)."""
    desk = config or settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        upgrade(desk.database_url)
        engine = create_engine(desk.database_url)
        rasa = rasa_client() if rasa_client else RasaClient(desk.rasa_url, timeout_s=desk.rasa_timeout_s)
        state = _desk_state(desk, session_factory(engine), rasa)
        dispatcher = Dispatcher(
            state.sessions,
            rasa,
            state.hours,
            state.bus,
            thresholds=state.thresholds,
            rasa_wait_s=desk.rasa_wait_s,
            patience_s=desk.rasa_patience_s,
        )
        app.state.desk, app.state.dispatcher = state, dispatcher
        trackers = create_engine(
            tracker_database(desk.database_url, desk.rasa_tracker_url).sqlalchemy_url(), pool_pre_ping=True
        )
        with state.sessions.begin() as session:
            model_registry.fail_stale(session)
        telegram = await start_telegram(desk, dispatcher, state.attachments)
        app.state.telegram = telegram
        if telegram is not None and telegram.outbox is not None:
            outbox = telegram.outbox
            state.wake_outbox = lambda channel: outbox.kick() if channel is Channel.telegram else None
        jobs = Periodic()
        jobs.every("recovery sweep", desk.sweep_interval_s, dispatcher.sweep)
        retention = dt.timedelta(hours=desk.tracker_retention_hours)

        def purge_in_thread() -> None:
            # the whole transaction in the worker thread: a transaction held open across an
            # await would keep SQLite's write lock while the event loop waits for it
            with state.sessions.begin() as session:
                tracker_retention.purge(session, trackers, retention)

        async def purge_trackers() -> None:
            await asyncio.to_thread(purge_in_thread)

        jobs.every("tracker retention", 3600.0, purge_trackers)
        yield
        await jobs.stop()
        if telegram is not None:
            await stop_telegram(telegram)
        await rasa.close()
        trackers.dispose()
        engine.dispose()

    app = FastAPI(title="Baken desk", version="0.1.0", lifespan=lifespan)
    app.include_router(widget_api.router)
    app.include_router(telegram_webhook.router)
    app.include_router(auth_api.router)
    app.include_router(inbox_api.router)
    app.include_router(nlu_inbox_api.router)
    app.include_router(registry_api.router)
    app.include_router(dashboard_api.router)
    app.include_router(workers_api.router)
    app.include_router(gemeente_api.router)
    pages.install(app)
    app.include_router(attachments_api.router)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [
            Problem(where=".".join(str(p) for p in error.get("loc", ())), problem=str(error.get("msg", "")))
            for error in exc.errors()
        ]
        body = InvalidRequest(detail="Het verzoek klopt niet. Controleer de velden.", problems=problems)
        return JSONResponse(status_code=422, content=body.model_dump())

    _document_invalid_request(app)

    @app.get("/healthz", tags=["health"], summary="Desk, database, Rasa, and what is waiting")
    async def healthz(request: Request) -> JSONResponse:
        """`ready` is true only when a citizen's message would be answered now: the database
        answers and Rasa has a model loaded (`rasa`: ready / loading / down). Also: citizen
        messages waiting for an answer, and outgoing messages pending or failed."""
        database = True
        backlog = None
        try:
            with desk_state(request).sessions() as session:
                session.execute(text("SELECT 1"))
                backlog = processing.backlog(session)
        except Exception:
            log.warning("healthz: the database did not answer", exc_info=True)
            database = False
        rasa = await desk_state(request).assistant.readiness()
        body: dict[str, Any] = {
            "desk": "ok",
            "database": "ok" if database else "down",
            "rasa": rasa,
            "ready": database and rasa == "ready",
        }
        if backlog is not None:
            body.update(
                waiting_for_answer=backlog.waiting_for_answer,
                oldest_waiting_s=backlog.oldest_waiting_s,
                deliveries_pending=backlog.deliveries_pending,
                deliveries_failed=backlog.deliveries_failed,
            )
        return JSONResponse(body, status_code=200 if database else 503)

    return app


def _document_invalid_request(app: FastAPI) -> None:
    """FastAPI documents its own 422 body (`detail` as a list of errors); the desk sends
    `InvalidRequest`. Put that in /openapi.json, so clients and the schema fuzzer see the truth."""
    default_openapi = app.openapi

    def openapi() -> dict[str, Any]:
        patched = app.openapi_schema is not None
        schema = default_openapi()
        schemas = schema.get("components", {}).get("schemas", {})
        if not patched and "HTTPValidationError" in schemas:
            definition = InvalidRequest.model_json_schema(ref_template="#/components/schemas/{model}")
            schemas.update(definition.pop("$defs", {}))
            schemas["HTTPValidationError"] = definition
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def _desk_state(desk: DeskSettings, sessions: sessionmaker[Session], rasa: RasaClient) -> DeskState:
    """Everything the worker side's routes need, built once at start (handoff/deps.py)."""
    return DeskState(
        sessions=sessions,
        bus=EventBus(),
        assistant=rasa,
        secret_key=auth.secret_key(
            desk.secret_key.get_secret_value() if desk.secret_key else None, Path(desk.secret_key_file)
        ),
        attachments=AttachmentStore.from_settings(desk),
        hours=HoursInForce(OfficeHours.from_settings(gemeente()["opening_hours"])),
        thresholds=nlu_inbox.Thresholds(
            desk.nlu_inbox_confidence, desk.nlu_inbox_margin, desk.nlu_inbox_retention_days
        ),
        learning=LearningState(
            training_config=desk.training_config,
            models_dir=(PROJECT_ROOT / desk.models_dir).resolve(),
            live_model_path=(PROJECT_ROOT / desk.live_model_path).resolve(),
            gate=model_registry.Gate(margin=desk.promote_margin),
            job_settings=training_job.JobSettings(heldout=desk.evaluation_set),
        ),
        content_attention=(desk.content_expiry_warning_days, desk.content_check_max_age_days),
    )
