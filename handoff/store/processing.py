"""Processing state of citizen messages: stored is not answered.

A citizen message is `pending` from the moment it is stored. The desk process that works
on it first claims it in the database (`pending` → `working`, with a lease it renews
while it works); its answer or handoff is stored in the same transaction that marks it
`done`. A process that dies leaves a `working` message whose lease runs out: the recovery
sweep (any desk process) claims it again. Of two processes that try at once, the guarded
UPDATE lets exactly one win, on SQLite and on PostgreSQL.

Functions take a Session; the caller owns the transaction.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from baken_core import crisis
from handoff.store.models import Author, Delivery, Message, Processing, utcnow

LEASE_S = 15.0
"""How long a claim holds without renewal; the worker renews it every LEASE_S / 3."""
GRACE_S = 3.0
"""A pending message younger than this belongs to the request that stored it."""


def claim(session: Session, message_id: int, *, lease_s: float = LEASE_S, now: dt.datetime | None = None) -> bool:
    """Take the message for processing; False when it is done or another process holds it."""
    now = now or utcnow()
    result = session.execute(
        update(Message)
        .where(
            Message.id == message_id,
            or_(
                Message.processing == Processing.pending,
                and_(Message.processing == Processing.working, Message.lease_until < now),
            ),
        )
        .values(
            processing=Processing.working,
            lease_until=now + dt.timedelta(seconds=lease_s),
            attempts=Message.attempts + 1,
        )
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def renew(session: Session, message_id: int, *, lease_s: float = LEASE_S) -> bool:
    """Extend a claim that is still ours (still `working`)."""
    result = session.execute(
        update(Message)
        .where(Message.id == message_id, Message.processing == Processing.working)
        .values(lease_until=utcnow() + dt.timedelta(seconds=lease_s))
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def release(session: Session, message_id: int) -> None:
    """Give a claim back unfinished (the process is shutting down): the next sweep takes it."""
    session.execute(
        update(Message)
        .where(Message.id == message_id, Message.processing == Processing.working)
        .values(processing=Processing.pending, lease_until=None)
        .execution_options(synchronize_session=False)
    )


def finish(session: Session, message_id: int) -> None:
    """Mark the message answered; call in the transaction that stores its answer or handoff."""
    session.execute(
        update(Message)
        .where(Message.id == message_id)
        .values(processing=Processing.done, lease_until=None)
        .execution_options(synchronize_session=False)
    )


@dataclass(frozen=True)
class Unanswered:
    message_id: int
    conversation_id: int
    crisis: bool


def unanswered(
    session: Session, *, grace_s: float = GRACE_S, limit: int = 200, now: dt.datetime | None = None
) -> list[Unanswered]:
    """Messages a crash or an outage left without an answer: crisis first, then oldest first."""
    now = now or utcnow()
    rows = session.execute(
        select(Message.id, Message.conversation_id, Message.crisis)
        .where(
            or_(
                and_(
                    Message.processing == Processing.pending,
                    Message.created_at < now - dt.timedelta(seconds=grace_s),
                ),
                and_(Message.processing == Processing.working, Message.lease_until < now),
            )
        )
        .order_by(Message.crisis.desc(), Message.id)
        .limit(limit)
    ).all()
    return [Unanswered(int(r[0]), int(r[1]), bool(r[2])) for r in rows]


def has_reply(session: Session, message_id: int, text: str) -> bool:
    """Whether this exact reply to the message is already stored (a step done before a crash)."""
    return (
        session.scalar(select(Message.id).where(Message.reply_to == message_id, Message.text == text).limit(1))
        is not None
    )


@dataclass(frozen=True)
class Backlog:
    """For /healthz: what is waiting for an answer and for delivery."""

    waiting_for_answer: int
    oldest_waiting_s: float | None
    deliveries_pending: int
    deliveries_failed: int


def has_crisis_reply(session: Session, message_id: int) -> bool:
    """Whether the crisis reply to this message is stored (its wording depends on the hour)."""
    found = session.scalar(
        select(Message.id)
        .where(Message.reply_to == message_id, Message.text.startswith(crisis.OPENING, autoescape=True))
        .limit(1)
    )
    return found is not None


def backlog(session: Session, now: dt.datetime | None = None) -> Backlog:
    now = now or utcnow()
    waiting, oldest = session.execute(
        select(func.count(), func.min(Message.created_at)).where(
            Message.author == Author.citizen, Message.processing != Processing.done
        )
    ).one()
    pending = session.scalar(select(func.count()).where(Message.delivery == Delivery.pending)) or 0
    failed = session.scalar(select(func.count()).where(Message.delivery == Delivery.failed)) or 0
    oldest_s = None
    if oldest is not None:
        if oldest.tzinfo is None:  # SQLite gives naive datetimes back
            oldest = oldest.replace(tzinfo=dt.timezone.utc)
        oldest_s = round((now - oldest).total_seconds(), 1)
    return Backlog(int(waiting or 0), oldest_s, int(pending), int(failed))
