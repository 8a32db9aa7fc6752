"""Workers' sessions on the server (issue 14): the signed cookie (handoff/auth.py) says who
and until when; the row in `worker_sessions` says whether it still counts.

A session ends at logout, when an admin resets the password, disables the account or
changes its role, when it expires (10 hours), and after `IDLE` without a request. Ending
publishes `session_revoked`, so the worker's open live streams close at once, in every
desk process (the bus reaches them); a stream also checks its session at every heartbeat.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Literal

from sqlalchemy import delete, update
from sqlalchemy.orm import Session

from handoff.store.models import WorkerSession, as_utc, utcnow

IDLE = dt.timedelta(minutes=60)
TOUCH_EVERY = dt.timedelta(seconds=60)
"""last_seen_at is written at most this often (not on every request)."""


def session_id(nonce: str) -> str:
    return hashlib.sha256(nonce.encode()).hexdigest()


def start(session: Session, worker_id: int, nonce: str, expires: dt.datetime) -> None:
    now = utcnow()
    session.add(
        WorkerSession(id=session_id(nonce), worker_id=worker_id, created_at=now, last_seen_at=now, expires_at=expires)
    )


State = Literal["ok", "touch", "idle", "gone"]


def check(session: Session, nonce: str, now: dt.datetime | None = None) -> State:
    """ok; touch (ok, and time to note the activity); idle (ends now); gone (unknown,
    revoked or expired). Reads only: the caller writes what `touch`/`idle` need."""
    now = now or utcnow()
    row = session.get(WorkerSession, session_id(nonce))
    if row is None or row.revoked_at is not None or as_utc(row.expires_at) <= now:
        return "gone"
    if as_utc(row.last_seen_at) <= now - IDLE:
        return "idle"
    return "touch" if as_utc(row.last_seen_at) <= now - TOUCH_EVERY else "ok"


def touch(session: Session, nonce: str, now: dt.datetime | None = None) -> None:
    session.execute(
        update(WorkerSession).where(WorkerSession.id == session_id(nonce)).values(last_seen_at=now or utcnow()),
        execution_options={"synchronize_session": False},
    )


def revoke(session: Session, *, nonce: str | None = None, worker_id: int | None = None, because: str) -> None:
    """End one session (by its cookie's nonce) or every session of a worker."""
    if nonce is None and worker_id is None:
        raise ValueError("which session?")
    query = update(WorkerSession).where(WorkerSession.revoked_at.is_(None))
    if nonce is not None:
        query = query.where(WorkerSession.id == session_id(nonce))
    if worker_id is not None:
        query = query.where(WorkerSession.worker_id == worker_id)
    session.execute(
        query.values(revoked_at=utcnow(), revoked_because=because), execution_options={"synchronize_session": False}
    )


def purge_old(session: Session, now: dt.datetime | None = None) -> int:
    """Rows of sessions that ended more than a day ago (retention)."""
    now = now or utcnow()
    result = session.execute(delete(WorkerSession).where(WorkerSession.expires_at < now - dt.timedelta(days=1)))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
