"""The desk's start and stop: what runs for the life of the app (desk/app.py)."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from sqlalchemy.orm import Session, sessionmaker

from baken_core.gemeente import gemeente
from baken_core.paths import PROJECT_ROOT
from baken_core.rasa_endpoints import tracker_database
from bot.rasa_client import RasaApi
from bot.rasa_pool import connect_rasa
from bot.routing import Dispatcher
from bot.telegram_webhook import start_telegram, stop_telegram
from desk.background import Periodic
from handoff import auth, worker_sessions
from handoff.config import DeskSettings
from handoff.deps import DeskState, LearningState
from handoff.learning import model_registry, model_store, nlu_inbox, training_job
from handoff.rate_limits import RateLimits
from handoff.store import followups, forget, retention, tracker_retention
from handoff.store.attachments import AttachmentStore
from handoff.store.db import create_engine, is_postgresql_url, session_factory
from handoff.store.events import EventBus
from handoff.store.job_leases import Leases
from handoff.store.migrate import upgrade
from handoff.store.models import Channel, FollowUpKind
from handoff.store.office_hours import HoursInForce, OfficeHours
from handoff.store.pg_events import PgEventBus

Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]


def lifespan(desk: DeskSettings, rasa_client: Callable[[], RasaApi] | None) -> Lifespan:
    """Start and stop what the app needs: migrations, the database, the Rasa client, the
    typed desk state and the dispatcher, Telegram, the periodic jobs."""

    @asynccontextmanager
    async def run(app: FastAPI) -> AsyncIterator[None]:
        problems = desk.multi_process_problems()
        if problems:
            raise RuntimeError(f"DESK_PROCESSES={desk.desk_processes}: " + "; ".join(problems))
        upgrade(desk.database_url)
        engine = create_engine(desk.database_url)
        rasa = (
            rasa_client()
            if rasa_client
            else connect_rasa(desk.rasa_url, timeout_s=desk.rasa_timeout_s, model_token=_model_token(desk))
        )
        bus = event_bus(desk.database_url)
        if isinstance(bus, PgEventBus):
            await bus.start()
        state = _desk_state(desk, session_factory(engine), rasa, bus)
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
        telegram = await start_telegram(desk, dispatcher, state.attachments)
        app.state.telegram = telegram
        if telegram is not None and telegram.outbox is not None:
            outbox = telegram.outbox
            state.wake_outbox = lambda channel: outbox.kick() if channel is Channel.telegram else None
        jobs = Periodic(Leases(state.sessions))  # each round in one desk process only
        jobs.every("recovery sweep", desk.sweep_interval_s, dispatcher.sweep)
        tracker_keep = dt.timedelta(hours=desk.tracker_retention_hours)
        jobs.every(
            "tracker retention",
            3600.0,
            in_thread(state.sessions, lambda s: tracker_retention.purge(s, trackers, tracker_keep)),
        )
        jobs.every("nlu inbox retention", 3600.0, in_thread(state.sessions, nlu_inbox.purge_expired))

        async def purge() -> int:
            return await asyncio.to_thread(forget.run_purge_tasks, state.sessions, state.attachments, trackers)

        policy = retention.Policy.from_settings(desk)
        keep = in_thread(state.sessions, lambda s: (retention.run(s, policy), worker_sessions.purge_old(s)))

        async def retention_round() -> None:
            await keep()
            await purge()

        dispatcher.purge = state.purge = purge
        dispatcher.limits = state.limits = RateLimits(desk)
        state.erase, state.retention = dispatcher.erase, policy
        jobs.every("retention", 3600.0, retention_round)
        jobs.every("purge tasks", 60.0, purge)  # what a crash or an unreachable tracker store left
        jobs.every("stale trainings", 60.0, in_thread(state.sessions, model_registry.fail_stale))
        jobs.every("follow-ups", FOLLOWUP_INTERVAL_S, followup_round(state.sessions, state.bus))
        yield
        await jobs.stop()
        if telegram is not None:
            await stop_telegram(telegram)
        await rasa.close()
        if isinstance(bus, PgEventBus):
            await bus.stop()
        trackers.dispose()
        engine.dispose()

    return run


FOLLOWUP_INTERVAL_S = 60.0
"""How often due check-ins and reminders are looked for (handoff/store/followups.py)."""


def followup_round(sessions: sessionmaker[Session], bus: EventBus) -> Callable[[], Awaitable[None]]:
    """Due check-ins stored for the citizen (the Telegram outbox wakes on the message event,
    the widget shows it when opened), due reminders announced to their worker's inbox."""

    def deliver() -> list[followups.Delivered]:
        with sessions.begin() as session:
            return followups.deliver_due(session)

    async def job() -> None:
        for done in await asyncio.to_thread(deliver):
            if done.kind is FollowUpKind.checkin:
                bus.publish(
                    {
                        "type": "message",
                        "conversation_id": done.conversation_id,
                        "citizen_id": done.citizen_id,
                        "author": "system",
                    }
                )
            else:
                bus.publish(
                    {
                        "type": "followup_reminder",
                        "conversation_id": done.conversation_id,
                        "worker_id": done.worker_id,
                    }
                )

    return job


def in_thread(sessions: sessionmaker[Session], work: Callable[[Session], object]) -> Callable[[], Awaitable[None]]:
    """A periodic job that runs `work` in one transaction in a worker thread: a transaction
    held open across an await would keep SQLite's write lock while the event loop waits."""

    def transaction() -> None:
        with sessions.begin() as session:
            work(session)

    async def job() -> None:
        await asyncio.to_thread(transaction)

    return job


def _model_token(desk: DeskSettings) -> str | None:
    """Given to Rasa with a model download URL (only when MODEL_SERVER_URL is set)."""
    if desk.model_server_url is None or desk.model_server_token is None:
        return None
    return desk.model_server_token.get_secret_value()


def event_bus(database_url: str) -> EventBus:
    """On PostgreSQL the bus reaches every desk process on that database; on SQLite (one
    process) it stays in memory."""
    return PgEventBus(database_url) if is_postgresql_url(database_url) else EventBus()


def _desk_state(desk: DeskSettings, sessions: sessionmaker[Session], rasa: RasaApi, bus: EventBus) -> DeskState:
    """Everything the worker side's routes need, built once at start (handoff/deps.py)."""
    return DeskState(
        sessions=sessions,
        bus=bus,
        assistant=rasa,
        secret_key=auth.secret_key(
            desk.secret_key.get_secret_value() if desk.secret_key else None, Path(desk.secret_key_file)
        ),
        attachments=AttachmentStore.from_settings(desk, sessions),
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
            store=model_store.from_settings(desk, sessions, (PROJECT_ROOT / desk.models_dir).resolve()),
            server_url=desk.model_server_base(),
            server_token=desk.model_server_token.get_secret_value() if desk.model_server_token else None,
        ),
        content_attention=(desk.content_expiry_warning_days, desk.content_check_max_age_days),
    )
