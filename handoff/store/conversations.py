"""The one place where conversation and handoff status change (an explicit state machine).

    bot ──► queued ──► with_worker ──► closed
     ▲                     │  │
     └─────── hand back ───┘  └──► queued (released)

An illegal transition raises IllegalTransition. Claiming is atomic: of two workers who
click at the same moment exactly one gets the conversation (a guarded UPDATE on both
databases; the next-in-queue pick uses SELECT … FOR UPDATE SKIP LOCKED on PostgreSQL).
Functions take a Session and flush; the caller commits.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Sequence
from typing import Any

from sqlalchemy import case, func, select, update
from sqlalchemy.orm import Session

from handoff.store import processing, teams
from handoff.store.db import is_postgresql
from handoff.store.models import (
    AuditLog,
    Author,
    Channel,
    Citizen,
    Conversation,
    ConversationStatus,
    Delivery,
    Handoff,
    Message,
    Outcome,
    Processing,
    Team,
    Urgency,
    Worker,
    utcnow,
)
from handoff.store.office_hours import OfficeHours

S = ConversationStatus
TRANSITIONS: dict[ConversationStatus, frozenset[ConversationStatus]] = {
    S.bot: frozenset({S.queued, S.closed}),
    S.queued: frozenset({S.with_worker, S.closed}),
    S.with_worker: frozenset({S.bot, S.closed, S.queued}),
    S.closed: frozenset(),
}
URGENCY_RANK = {Urgency.crisis: 0, Urgency.urgent: 1, Urgency.normal: 2}


class IllegalTransition(ValueError):
    """A status change the state machine does not allow."""


class ClaimConflict(RuntimeError):
    """Somebody else claimed the conversation first, or it is no longer waiting."""


class LimitReached(RuntimeError):
    """The worker already has their maximum number of concurrent chats."""


def _move(conversation: Conversation, target: ConversationStatus) -> None:
    if target not in TRANSITIONS[conversation.status]:
        raise IllegalTransition(f"conversation {conversation.id}: {conversation.status.value} → {target.value}")
    conversation.status = target
    conversation.updated_at = utcnow()
    if target is S.closed:
        conversation.closed_at = utcnow()


def audit(
    session: Session,
    action: str,
    *,
    worker: Worker | None = None,
    conversation: Conversation | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    session.add(
        AuditLog(
            action=action,
            worker_id=worker.id if worker else None,
            conversation_id=conversation.id if conversation else None,
            detail=detail,
        )
    )


def find_citizen(session: Session, channel: Channel, external_id: str) -> Citizen | None:
    return session.scalar(select(Citizen).where(Citizen.channel == channel, Citizen.external_id == external_id))


def citizen_for(session: Session, channel: Channel, external_id: str, display_name: str | None = None) -> Citizen:
    """The citizen behind a channel identity, created on first contact."""
    citizen = find_citizen(session, channel, external_id)
    if citizen is None:
        citizen = Citizen(channel=channel, external_id=external_id, display_name=display_name)
        session.add(citizen)
        session.flush()
    return citizen


def open_conversation(session: Session, citizen: Citizen, *, hold: bool = False) -> Conversation | None:
    """The citizen's conversation that is not closed, if any. `hold`: on PostgreSQL also take
    its claim lock till the end of the transaction, in the same statement (for storing a
    citizen's message: handoff/store/processing.py)."""
    query = (
        select(Conversation)
        .where(Conversation.citizen_id == citizen.id, Conversation.status != S.closed)
        .order_by(Conversation.id.desc())
        .limit(1)
    )
    lock = processing.lock_column(session, Conversation.id) if hold else None
    if lock is None:
        return session.scalar(query)
    row = session.execute(query.add_columns(lock)).first()
    return row[0] if row is not None else None


def active_conversation(
    session: Session, citizen: Citizen, source: str | None = None, *, hold: bool = False
) -> Conversation:
    """The citizen's open conversation, or a new one (a closed conversation is not reopened).
    `hold`: see `open_conversation` (a new one is not visible to other transactions anyway)."""
    conversation = open_conversation(session, citizen, hold=hold)
    if conversation is None:
        conversation = Conversation(
            citizen_id=citizen.id,
            channel=citizen.channel,
            source=source,
            status=S.bot,
            rasa_sender_id=f"{citizen.channel.value}-{secrets.token_hex(8)}",
        )
        session.add(conversation)
        session.flush()
    return conversation


def record_message(
    session: Session,
    conversation: Conversation,
    author: Author,
    text: str,
    *,
    dedupe_key: str | None = None,
    buttons: list[dict[str, Any]] | None = None,
    attachments: list[dict[str, Any]] | None = None,
    worker: Worker | None = None,
    internal: bool = False,
    reply_to: int | None = None,
    crisis: bool = False,
    key_checked: bool = False,
) -> tuple[Message, bool]:
    """Store a message before anything else; (message, False) when it is a redelivery.

    A citizen's message starts `pending` (not answered yet). Anything for the citizen gets
    a delivery state: `pending` where the desk pushes it (Telegram), `stored` where the
    channel reads the store (the widget). Internal notes are never delivered.
    `key_checked`: the caller looked for `dedupe_key` in this transaction and found nothing
    (the unique index still refuses a double that slips in between)."""
    if dedupe_key is not None and not key_checked:
        existing = session.scalar(select(Message).where(Message.dedupe_key == dedupe_key))
        if existing is not None:
            return existing, False
    delivery: Delivery | None = None
    if author is not Author.citizen and not internal:
        delivery = Delivery.pending if conversation.channel is Channel.telegram else Delivery.stored
    message = Message(
        conversation_id=conversation.id,
        author=author,
        text=text,
        dedupe_key=dedupe_key,
        buttons=buttons,
        attachments=attachments,
        worker_id=worker.id if worker else None,
        internal=internal,
        reply_to=reply_to,
        crisis=crisis,
        processing=Processing.pending if author is Author.citizen else None,
        delivery=delivery,
    )
    session.add(message)
    session.flush()
    return message, True


def button_title(session: Session, conversation: Conversation, text: str) -> str | None:
    """The title of the button the citizen pressed, when `text` is its payload.

    Channels send a button's payload (`/inform{"zrm_score":"3"}`) to Rasa; the transcript
    shows what the citizen chose ("Het lukt redelijk"), for them and for the worker.
    """
    if not text.startswith("/"):
        return None
    last_buttons = session.scalar(
        select(Message.buttons)
        .where(Message.conversation_id == conversation.id, Message.buttons.is_not(None))
        .order_by(Message.id.desc())
        .limit(1)
    )
    for button in last_buttons or []:
        if isinstance(button, dict) and button.get("payload") == text:
            return str(button.get("title") or "") or None
    return None


def open_handoff(session: Session, conversation: Conversation) -> Handoff | None:
    return session.scalar(
        select(Handoff)
        .where(Handoff.conversation_id == conversation.id, Handoff.closed_at.is_(None))
        .order_by(Handoff.id.desc())
        .limit(1)
    )


def queue(
    session: Session,
    conversation: Conversation,
    *,
    reason: str,
    urgency: Urgency = Urgency.normal,
    domains: Sequence[str] = (),
    summary: str = "",
    hours: OfficeHours | None = None,
    now: dt.datetime | None = None,
) -> Handoff:
    """Put the conversation in the worker queue, for the team that fits (handoff/store/teams.py;
    `hours` are the municipality's, for teams without their own). Already waiting or with a
    worker: the urgency can only go up (a crisis while queued jumps to the head of the queue)."""
    current = open_handoff(session, conversation)
    if current is not None and conversation.status in (S.queued, S.with_worker):
        if URGENCY_RANK[urgency] < URGENCY_RANK[current.urgency]:
            current.urgency = urgency
            audit(session, "escalate", conversation=conversation, detail={"urgency": urgency.value, "reason": reason})
        current.domains = sorted(set(current.domains) | set(domains))
        if summary and summary not in current.summary:
            current.summary = f"{current.summary}\n\n{summary}".strip()
        session.flush()
        return current
    _move(conversation, S.queued)
    routed = teams.route_conversation(session, conversation, urgency, domains, hours, now or utcnow())
    conversation.team_id = routed.team_id
    handoff = Handoff(
        conversation_id=conversation.id,
        reason=reason,
        urgency=urgency,
        domains=list(domains),
        summary=summary,
    )
    session.add(handoff)
    audit(
        session,
        "queue",
        conversation=conversation,
        detail={"reason": reason, "urgency": urgency.value, "team": routed.team_id, "route": routed.why},
    )
    session.flush()
    return handoff


def active_chats(session: Session, worker: Worker) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(Conversation)
            .where(Conversation.worker_id == worker.id, Conversation.status == S.with_worker)
        )
        or 0
    )


def claim(session: Session, conversation_id: int, worker: Worker) -> Handoff:
    """Atomically give a waiting conversation to `worker`; ClaimConflict if someone was first."""
    if active_chats(session, worker) >= worker.max_concurrent:
        raise LimitReached(f"{worker.name} already has {worker.max_concurrent} chats")
    now = utcnow()
    result = session.execute(
        update(Conversation)
        .where(Conversation.id == conversation_id, Conversation.status == S.queued)
        .values(status=S.with_worker, worker_id=worker.id, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise ClaimConflict(f"conversation {conversation_id} is not waiting any more")
    conversation = session.get(Conversation, conversation_id, populate_existing=True)
    assert conversation is not None
    handoff = open_handoff(session, conversation)
    assert handoff is not None, "a queued conversation always has an open handoff"
    handoff.claimed_at = now
    handoff.worker_id = worker.id
    audit(session, "claim", worker=worker, conversation=conversation)
    session.flush()
    return handoff


def queue_order(first_teams: Sequence[int] = ()) -> Any:
    """ORDER BY for the queue: every crisis first (for everyone, whatever its team); then the
    conversations of `first_teams` (a worker's own teams) and those of no team; then urgent,
    normal; then who waited longest."""
    rank = case(
        (Handoff.urgency == Urgency.crisis, 0),
        (Handoff.urgency == Urgency.urgent, 1),
        else_=2,
    )
    crisis = case((Handoff.urgency == Urgency.crisis, 0), else_=1)
    if first_teams:
        own = case((Conversation.team_id.in_(list(first_teams)), 0), (Conversation.team_id.is_(None), 0), else_=1)
        return (crisis, own, rank, Handoff.queued_at, Handoff.id)
    return (rank, Handoff.queued_at, Handoff.id)


def waiting(session: Session, first_teams: Sequence[int] = ()) -> list[Handoff]:
    """The queue, in the order workers (of `first_teams`) should take it."""
    return list(
        session.scalars(
            select(Handoff)
            .join(Conversation, Conversation.id == Handoff.conversation_id)
            .where(Conversation.status == S.queued, Handoff.closed_at.is_(None))
            .order_by(*queue_order(first_teams))
        )
    )


def claim_next(session: Session, worker: Worker, first_teams: Sequence[int] = ()) -> Handoff | None:
    """Claim the conversation at the head of the queue (crisis, then `first_teams`), skipping
    ones being claimed now."""
    candidates = (
        select(Conversation.id)
        .join(Handoff, Handoff.conversation_id == Conversation.id)
        .where(Conversation.status == S.queued, Handoff.closed_at.is_(None))
        .order_by(*queue_order(first_teams))
    )
    if is_postgresql(session):
        locked = session.scalar(candidates.limit(1).with_for_update(skip_locked=True, of=Conversation))
        return claim(session, locked, worker) if locked is not None else None
    for conversation_id in session.scalars(candidates).all():
        try:
            return claim(session, conversation_id, worker)
        except ClaimConflict:
            continue
    return None


def _take_from(session: Session, conversation: Conversation, from_worker: Worker, **values: Any) -> None:
    """A guarded UPDATE: only while the conversation is still with `from_worker` (of a double
    click or two tabs, one transfer wins; the other gets IllegalTransition)."""
    result = session.execute(
        update(Conversation)
        .where(
            Conversation.id == conversation.id,
            Conversation.status == S.with_worker,
            Conversation.worker_id == from_worker.id,
        )
        .values(updated_at=utcnow(), **values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise IllegalTransition(f"conversation {conversation.id} is not with {from_worker.name}")
    session.refresh(conversation)


def transfer(
    session: Session, conversation: Conversation, from_worker: Worker, to_worker: Worker, note: str = ""
) -> None:
    """Give a conversation that is with `from_worker` to a colleague, with a note for them."""
    if conversation.status is not S.with_worker or conversation.worker_id != from_worker.id:
        raise IllegalTransition(f"conversation {conversation.id} is not with {from_worker.name}")
    if to_worker.id == from_worker.id:
        raise IllegalTransition(f"conversation {conversation.id} is already with {to_worker.name}")
    if active_chats(session, to_worker) >= to_worker.max_concurrent:
        raise LimitReached(f"{to_worker.name} already has {to_worker.max_concurrent} chats")
    _take_from(session, conversation, from_worker, worker_id=to_worker.id)
    handoff = open_handoff(session, conversation)
    if handoff is not None:
        handoff.worker_id = to_worker.id
        handoff.note = note or None
    audit(
        session,
        "transfer",
        worker=from_worker,
        conversation=conversation,
        detail={"to": to_worker.id, "note": bool(note)},
    )
    session.flush()


def transfer_to_team(
    session: Session, conversation: Conversation, from_worker: Worker, team: Team, note: str = ""
) -> Handoff:
    """Put a conversation that is with `from_worker` back in the queue, for `team`, with a
    note that team reads with the summary. It keeps its place (its original queue time)."""
    if conversation.status is not S.with_worker or conversation.worker_id != from_worker.id:
        raise IllegalTransition(f"conversation {conversation.id} is not with {from_worker.name}")
    if S.queued not in TRANSITIONS[conversation.status]:
        raise IllegalTransition(f"conversation {conversation.id}: {conversation.status.value} → queued")
    _take_from(session, conversation, from_worker, status=S.queued, worker_id=None, team_id=team.id)
    handoff = open_handoff(session, conversation)
    assert handoff is not None, "a conversation with a worker has an open handoff"
    handoff.worker_id = None
    handoff.claimed_at = None
    handoff.note = note or None
    audit(
        session,
        "transfer_team",
        worker=from_worker,
        conversation=conversation,
        detail={"team": team.id, "note": bool(note)},
    )
    session.flush()
    return handoff


def hand_back(session: Session, conversation: Conversation, worker: Worker) -> None:
    """The worker who has the conversation returns it to the assistant."""
    if conversation.worker_id != worker.id:
        raise IllegalTransition(f"conversation {conversation.id} is not with {worker.name}")
    _move(conversation, S.bot)
    conversation.worker_id = None
    handoff = open_handoff(session, conversation)
    if handoff is not None:
        handoff.closed_at = utcnow()
        handoff.outcome = Outcome.resolved
    audit(session, "hand_back", worker=worker, conversation=conversation)
    session.flush()


def close(
    session: Session,
    conversation: Conversation,
    worker: Worker | None,
    outcome: Outcome,
    case_note: str = "",
) -> None:
    """Close the conversation with an outcome and a short case note."""
    _move(conversation, S.closed)
    handoff = open_handoff(session, conversation)
    if handoff is not None:
        handoff.closed_at = utcnow()
        handoff.outcome = outcome
        handoff.case_note = case_note or None
    audit(session, "close", worker=worker, conversation=conversation, detail={"outcome": outcome.value})
    session.flush()
