"""What every API route of the desk needs, in one place: the typed desk state, a database
session factory, the logged-in worker or admin, id types and get-or-404.

`desk.app` builds one `DeskState` at start and puts it on `app.state.desk`; routes reach
it with `desk_state(request)` and never read loose attributes. Nothing here knows the
citizen side: the assistant and the channels' outboxes come in through `handoff.ports`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path as FilePath
from typing import Annotated, TypeVar

from fastapi import Depends, HTTPException, Path, Request
from sqlalchemy.orm import Session, sessionmaker

from handoff import auth, worker_sessions
from handoff.learning.model_registry import Gate
from handoff.learning.model_store import ModelStore
from handoff.learning.nlu_inbox import Thresholds
from handoff.learning.training_job import JobSettings
from handoff.ports import Assistant, EraseCitizen, WakeOutbox, no_outbox
from handoff.rate_limits import RateLimits
from handoff.store.attachments import AttachmentStore
from handoff.store.db import MAX_ID, Base
from handoff.store.events import EventBus
from handoff.store.models import Role, Worker
from handoff.store.office_hours import HoursInForce
from handoff.store.retention import Policy

Row = TypeVar("Row", bound=Base)

ConversationId = Annotated[int, Path(ge=1, le=MAX_ID)]
"""A path id: within the database's INTEGER (PostgreSQL ends at 2**31 - 1), else a 422."""
ModelId = Annotated[int, Path(ge=1, le=MAX_ID)]
WorkerId = Annotated[int, Path(ge=1, le=MAX_ID)]
MessageId = Annotated[int, Path(ge=1, le=MAX_ID)]


@dataclass
class LearningState:
    """The admin's learning loop: where models live and how a new one is judged."""

    training_config: str
    models_dir: FilePath
    live_model_path: FilePath
    gate: Gate
    job_settings: JobSettings
    store: ModelStore
    """Where models' files live (MODELS_STORE: the folder, or the database)."""
    server_url: str | None = None
    """The desk's model server as Rasa reaches it (MODEL_SERVER_URL): promotion sends Rasa
    a download URL there instead of a file path."""
    server_token: str | None = None
    """MODEL_SERVER_TOKEN: Rasa's key to GET /internal/models/... (None: the server is off)."""
    training_task: asyncio.Task[None] | None = None
    """The training running in this process, if any (one at a time: model_registry)."""


@dataclass
class DeskState:
    sessions: sessionmaker[Session]
    bus: EventBus
    assistant: Assistant
    secret_key: bytes
    attachments: AttachmentStore
    hours: HoursInForce
    thresholds: Thresholds
    learning: LearningState
    content_attention: tuple[int, int] = (60, 180)
    """Days before a fact expires to warn about it, and the age of a check that is too old."""
    wake_outbox: WakeOutbox = field(default=no_outbox)
    purge: Callable[[], Awaitable[object]] | None = None
    """Deletes the files and trackers that retention or an erasure left (handoff/store/forget.py)."""
    erase: EraseCitizen | None = None
    """A citizen's erasure, by an admin on their request (set by desk/lifespan.py)."""
    retention: Policy = field(default_factory=Policy)
    limits: RateLimits | None = None
    """Message, login and stream limits (handoff/rate_limits.py; set by desk/lifespan.py)."""


def desk_state(request: Request) -> DeskState:
    state: DeskState = request.app.state.desk
    return state


Desk = Annotated[DeskState, Depends(desk_state)]


def get_or_404(session: Session, model: type[Row], row_id: int, message: str) -> Row:
    """The row with this id, or a 404 that says in Dutch what does not exist."""
    row = session.get(model, row_id)
    if row is None:
        raise HTTPException(404, message)
    return row


def current_worker(request: Request, desk: Desk) -> Worker:
    """The worker of the session cookie; on a change (not GET) also a valid CSRF token."""
    token = auth.read(desk.secret_key, request.cookies.get(auth.COOKIE))
    if token is None:
        raise HTTPException(401, "Log eerst in.")
    if request.method not in ("GET", "HEAD") and not auth.csrf_ok(
        desk.secret_key, token, request.headers.get(auth.CSRF_HEADER)
    ):
        raise HTTPException(403, "De beveiligingscode (CSRF) ontbreekt of klopt niet. Laad de pagina opnieuw.")
    with desk.sessions() as session:
        state = worker_sessions.check(session, token.nonce)
        worker = session.get(Worker, token.worker_id)
        if worker is not None:
            session.expunge(worker)
    if state == "idle":
        with desk.sessions.begin() as session:
            worker_sessions.revoke(session, nonce=token.nonce, because="idle")
    if state in ("idle", "gone"):
        raise HTTPException(401, "Je bent uitgelogd: je sessie is verlopen of beëindigd. Log opnieuw in.")
    if worker is None or worker.disabled:
        raise HTTPException(401, "Dit account is niet (meer) actief.")
    if state == "touch":
        with desk.sessions.begin() as session:
            worker_sessions.touch(session, token.nonce)
    return worker


CurrentWorker = Annotated[Worker, Depends(current_worker)]


def current_admin(worker: CurrentWorker) -> Worker:
    if worker.role is not Role.admin:
        raise HTTPException(403, "Dit deel is alleen voor beheerders.")
    return worker


CurrentAdmin = Annotated[Worker, Depends(current_admin)]
