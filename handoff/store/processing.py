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
(`finish` returns it), and the sweep takes it when that process died: after a crash it
waits at most the lease (LEASE_S) and one sweep interval, plus the earlier message's own
turn. Its crisis reply does not wait for the claim (bot/routing/dispatcher.py).

Each claim has a fencing token: the message's claim count after it (`Claim.token`). Finishing,
renewing and giving back take the token and hold only while the message is still `working`
under that same claim. A process paused past its lease (SIGSTOP) whose message another
process claimed meanwhile finds its claim gone when it wakes up: `finish` raises ClaimLost,
and the caller's transaction (its answer, its handoff) is rolled back instead of stored twice.

Why a transaction-scoped advisory lock on PostgreSQL: under READ COMMITTED the NOT
EXISTS of an UPDATE does not see another transaction's uncommitted claim, so two claims
of two messages of one conversation could both win (a message whose storing committed
late shows up between the two). `claim` first takes
`pg_advisory_xact_lock(CLAIM_LOCK, conversation_id)` in a statement of its own (or the
caller's read before it did, `conversation_lock`); the UPDATE after it gets a new
snapshot, which holds the other claim once that committed. The lock
goes with the claim's own transaction (milliseconds: callers commit right after), not
with the pooled connection as a session advisory lock would; it touches no row, so changing
the conversation's status never waits for it (a `SELECT ... FOR UPDATE` on the conversation
would). Storing a citizen's message takes the same lock when it reads the open conversation
(`conversations.active_conversation(..., hold=True)`): a later message whose storing commits
first cannot be claimed while an earlier one is still being stored, so the citizen's messages
go to the assistant in the order they were stored, also through two desk processes. On SQLite every write
transaction begins IMMEDIATE (handoff/store/db.py): the writer lock serializes claims.
Under REPEATABLE READ or SERIALIZABLE the snapshot would predate the lock: the desk's
sessions use PostgreSQL's default, READ COMMITTED.

Functions take a Session; the caller owns the transaction.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Integer, SQLColumnExpression, and_, func, literal, or_, select, update
from sqlalchemy.orm import Session, aliased

from baken_core import crisis
from handoff.store.db import is_postgresql
from handoff.store.models import Author, Conversation, ConversationStatus, Delivery, Message, Processing, utcnow

LEASE_S = 15.0
"""How long a claim holds without renewal; the worker renews it every LEASE_S / 3."""
GRACE_S = 3.0
"""A pending message younger than this belongs to the request that stored it."""
MAX_ATTEMPTS = 5
"""A message claimed this often without being finished (it failed, or its process died each
time) goes to a worker without the assistant: the conversation's later messages wait behind
it (claims are in order), so a message that always fails must not hold them for ever."""


_OTHER = aliased(Message, name="other_message")
_THIS = aliased(Message, name="this_message")
"""Made once: a new alias per call costs SQLAlchemy about 0.3 ms per column used (it adapts the
column again each time): 4.6 ms of CPU per message in claim and finish, measured 2026-12-06."""

CLAIM_LOCK = 0x42414B43  # "BAKC": the advisory lock space of the claims, one key per conversation


class ClaimLost(Exception):
    """The claim ran out and another process claimed the message since: this one's answer must
    not be stored (raise it inside the answer's transaction, which then rolls back)."""


@dataclass(frozen=True)
class Claim:
    status: ConversationStatus
    """The conversation's status as the claim saw it."""
    token: int
    """The fence: the message's claim count after this claim (pass it to finish/renew/release)."""


def claim(
    session: Session,
    message_id: int,
    *,
    lease_s: float = LEASE_S,
    now: dt.datetime | None = None,
    locked: bool = False,
) -> bool:
    """Take the message for processing; False when it is done, another process holds it, or
    its conversation is busy or has an earlier unfinished message (see the module's docstring).
    Commit soon after: on PostgreSQL the claim holds its conversation's lock till then.
    `locked`: an earlier statement of this transaction took it already (`conversation_lock`)."""
    return claim_status(session, message_id, lease_s=lease_s, now=now, locked=locked) is not None


def claim_status(
    session: Session,
    message_id: int,
    *,
    lease_s: float = LEASE_S,
    now: dt.datetime | None = None,
    locked: bool = False,
) -> Claim | None:
    """`claim`, returning the status of the message's conversation as the claim saw it and the
    claim's fencing token (None: refused). Read in the claim's own statement, the status holds
    whatever the process that finished the message before did, which a read before the claim
    might miss."""
    now = now or utcnow()
    if is_postgresql(session) and not locked:  # a statement of its own: the UPDATE's snapshot comes after it
        session.execute(select(_lock_of(Message.conversation_id)).where(Message.id == message_id))
    other = _OTHER
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
    status = select(Conversation.status).where(Conversation.id == Message.conversation_id).scalar_subquery()
    found = session.execute(
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
        .returning(status, Message.attempts)
        .execution_options(synchronize_session=False)
    ).one_or_none()
    return None if found is None else Claim(ConversationStatus(found[0]), int(found[1]))


def _held(message_id: int, token: int | None) -> ColumnElement[bool]:
    """The message is `working` under the claim with this token (any claim when None)."""
    held = and_(Message.id == message_id, Message.processing == Processing.working)
    return held if token is None else and_(held, Message.attempts == token)


def holds(session: Session, message_id: int, token: int | None) -> bool:
    """Whether the claim with this token still has the message (for a reply stored before the
    message is finished, such as the "even geduld" line: not after another process took it)."""
    return session.scalar(select(Message.id).where(_held(message_id, token))) is not None


def renew(session: Session, message_id: int, *, lease_s: float = LEASE_S, token: int | None = None) -> bool:
    """Extend a claim that is still ours (still `working`, under our token); False: it is gone."""
    result = session.execute(
        update(Message)
        .where(_held(message_id, token))
        .values(lease_until=utcnow() + dt.timedelta(seconds=lease_s))
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def release(session: Session, message_id: int, token: int | None = None) -> None:
    """Give a claim back unfinished (the process is shutting down): the next sweep takes it.
    With a token, only that claim: one another process took meanwhile stays with it."""
    session.execute(
        update(Message)
        .where(_held(message_id, token))
        .values(processing=Processing.pending, lease_until=None)
        .execution_options(synchronize_session=False)
    )


def finish(session: Session, message_id: int, token: int | None = None) -> int | None:
    """Mark the message answered; call in the transaction that stores its answer or handoff.
    Returns the conversation's next unfinished citizen message, if any, for the caller to
    take next (read in the same statement: the claim refused it while this one was unfinished).
    With the claim's token: raises ClaimLost when that claim is no longer the message's
    (the caller's transaction must then roll back); without, it finishes whatever the state."""
    other, this = _OTHER, _THIS
    # not correlated with the updated row: SQLite renders RETURNING's column names unqualified
    conversation = select(this.conversation_id).where(this.id == message_id).scalar_subquery()
    following = (
        select(func.min(other.id))
        .where(
            other.conversation_id == conversation,
            other.id != message_id,
            other.processing.in_((Processing.pending, Processing.working)),
        )
        .scalar_subquery()
    )
    found = session.execute(
        update(Message)
        .where(Message.id == message_id if token is None else _held(message_id, token))
        .values(processing=Processing.done, lease_until=None)
        .returning(Message.id, following)
        .execution_options(synchronize_session=False)
    ).one_or_none()
    if found is None and token is not None:
        raise ClaimLost(f"message {message_id}: claim {token} is no longer held")
    return None if found is None or found[1] is None else int(found[1])


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


def conversation_lock(session: Session) -> ColumnElement[Any] | None:
    """On PostgreSQL, a column that takes the claim lock of the selected message's
    conversation till the end of the transaction: a read before `claim(..., locked=True)`
    takes it, without a statement of its own. None on SQLite (the writer lock holds all)."""
    return lock_column(session, Message.conversation_id)


def lock_column(session: Session, conversation_id: SQLColumnExpression[int]) -> ColumnElement[Any] | None:
    """On PostgreSQL, a column that takes the claim lock of the conversation `conversation_id`
    names in the selected row, till the end of the transaction (PostgreSQL evaluates it after
    ORDER BY and LIMIT, for the rows returned only). None on SQLite."""
    return _lock_of(conversation_id) if is_postgresql(session) else None


def hold_conversation(session: Session, conversation_id: int) -> None:
    """Take the conversation's claim lock till the end of the transaction (PostgreSQL; on
    SQLite the writer lock of the IMMEDIATE transaction already holds everything)."""
    if is_postgresql(session):
        session.execute(select(_lock_of(literal(conversation_id, Integer))))


def _lock_of(conversation_id: SQLColumnExpression[int]) -> ColumnElement[Any]:
    return func.pg_advisory_xact_lock(literal(CLAIM_LOCK, Integer), conversation_id)


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
        if oldest.tzinfo is None:  # SQLite gives naive datetimes back
            oldest = oldest.replace(tzinfo=dt.timezone.utc)
        oldest_s = round((now - oldest).total_seconds(), 1)
    return Backlog(int(waiting or 0), oldest_s, int(pending), int(failed))
