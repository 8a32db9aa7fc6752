"""Processing state of citizen messages: stored is not answered.

A citizen message is `pending` from the moment it is stored. The desk process that works
on it first claims it in the database (`pending` → `working`, with a lease it renews
while it works); its answer or handoff is stored in the same transaction that marks it
`done`. A process that dies leaves a `working` message whose lease runs out: the recovery
sweep (any desk process) claims it again. Of two processes that try at once, the guarded
UPDATE lets exactly one win, on SQLite and on PostgreSQL.

A claim is ordered per conversation: it wins only when no other message of the
conversation is `working` under a live lease and no earlier citizen message of it is
still unfinished (`pending`, or `working` under a lease that ran out). So one
conversation is with one process at a time (one Rasa call at a time, which the Rasa
replicas rely on), and the earliest unfinished message goes first, also after a crash.
A refused later message is not lost: whoever finishes the earlier one takes the next
(`next_unfinished`), and the sweep takes it when that process died.

Why a transaction-scoped advisory lock on PostgreSQL: under READ COMMITTED the NOT
EXISTS of an UPDATE does not see another transaction's uncommitted claim, so two claims
of two messages of one conversation could both win. `claim` first takes
`pg_advisory_xact_lock(CLAIM_LOCK, conversation_id)` in a statement of its own; the UPDATE
after it gets a new snapshot, which holds the other claim once that committed. The lock
goes with the claim's own transaction (milliseconds: callers commit right after), not
with the pooled connection as a session advisory lock would; it touches no row, so
inserting messages into the conversation or changing its status never waits for it (a
`SELECT ... FOR UPDATE` on the conversation would block both). On SQLite every write
transaction begins IMMEDIATE (handoff/store/db.py): the writer lock serializes claims.
Under REPEATABLE READ or SERIALIZABLE the snapshot would predate the lock: the desk's
sessions use PostgreSQL's default, READ COMMITTED.

Functions take a Session; the caller owns the transaction.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import and_, func, or_, select, text, update
from sqlalchemy.orm import Session, aliased

from baken_core import crisis
from handoff.store.db import is_postgresql
from handoff.store.models import Author, Delivery, Message, Processing, utcnow

LEASE_S = 15.0
"""How long a claim holds without renewal; the worker renews it every LEASE_S / 3."""
GRACE_S = 3.0
"""A pending message younger than this belongs to the request that stored it."""


CLAIM_LOCK = 0x42414B43  # "BAKC": the advisory lock space of the claims, one key per conversation


def claim(session: Session, message_id: int, *, lease_s: float = LEASE_S, now: dt.datetime | None = None) -> bool:
    """Take the message for processing; False when it is done, another process holds it, or
    its conversation is busy or has an earlier unfinished message (see the module's docstring).
    Commit soon after: on PostgreSQL the claim holds its conversation's lock till then."""
    now = now or utcnow()
    if is_postgresql(session):  # in a statement of its own: the UPDATE's snapshot comes after it
        session.execute(
            text("SELECT pg_advisory_xact_lock(CAST(:space AS integer), conversation_id) FROM messages WHERE id = :id"),
            {"space": CLAIM_LOCK, "id": message_id},
        )
    other = aliased(Message)
    in_the_way = (
        select(other.id)
        .where(
            other.conversation_id == Message.conversation_id,
            other.id != Message.id,
            or_(
                and_(other.processing == Processing.working, other.lease_until >= now),
                and_(other.id < Message.id, other.processing.in_((Processing.pending, Processing.working))),
            ),
        )
        .exists()
    )
    result = session.execute(
        update(Message)
        .where(
            Message.id == message_id,
            or_(
                Message.processing == Processing.pending,
                and_(Message.processing == Processing.working, Message.lease_until < now),
            ),
            ~in_the_way,
        )
        .values(
            processing=Processing.working,
            lease_until=now + dt.timedelta(seconds=lease_s),
            attempts=Message.attempts + 1,
        )
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def next_unfinished(session: Session, conversation_id: int, *, now: dt.datetime | None = None) -> Unanswered | None:
    """The conversation's earliest unfinished citizen message, when nobody holds the
    conversation: what the process that finished the one before takes next. None when there
    is none, or when a message of it is `working` under a live lease (its process goes on)."""
    now = now or utcnow()
    held = (
        select(Message.id)
        .where(
            Message.conversation_id == conversation_id,
            Message.processing == Processing.working,
            Message.lease_until >= now,
        )
        .exists()
    )
    row = session.execute(
        select(Message.id, Message.conversation_id, Message.crisis)
        .where(
            Message.conversation_id == conversation_id,
            Message.processing.in_((Processing.pending, Processing.working)),
            ~held,
        )
        .order_by(Message.id)
        .limit(1)
    ).one_or_none()
    return None if row is None else Unanswered(int(row[0]), int(row[1]), bool(row[2]))


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment.replace(tzinfo=dt.timezone.utc) if moment.tzinfo is None else moment  # SQLite: naive


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


def hold_conversation(session: Session, conversation_id: int) -> None:
    """Take the conversation's claim lock till the end of the transaction (PostgreSQL; on
    SQLite the writer lock of the IMMEDIATE transaction already holds everything)."""
    if is_postgresql(session):
        session.execute(
            text("SELECT pg_advisory_xact_lock(CAST(:space AS integer), CAST(:key AS integer))"),
            {"space": CLAIM_LOCK, "key": conversation_id},
        )


def crisis_reply_due(session: Session, message_id: int, conversation_id: int) -> bool:
    """Whether this crisis message still needs its crisis reply: unfinished, and none stored.
    Holds the conversation's lock for the rest of the transaction, so of two processes that
    check at once (the crisis reply comes before the claim) only the first stores one."""
    hold_conversation(session, conversation_id)
    unfinished = session.scalar(
        select(Message.id).where(
            Message.id == message_id, Message.processing.in_((Processing.pending, Processing.working))
        )
    )
    return unfinished is not None and not has_crisis_reply(session, message_id)


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
        oldest_s = round((now - _aware(oldest)).total_seconds(), 1)
    return Backlog(int(waiting or 0), oldest_s, int(pending), int(failed))
