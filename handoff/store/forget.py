"""Deleting conversations for good, for retention and for a citizen's erasure request.

`forget` removes the conversations' messages, handoffs (with their summaries and case
notes), the conversations themselves and a citizen left without any. What lives outside
these tables, an attachment's file and Rasa's tracker, is written down as a `PurgeTask` in
the same transaction and deleted by `run_purge_tasks` right after the commit and, should
that fail or the process die, by the periodic job until it succeeds.

What stays is what the dashboard counts, without text or citizen (`ConversationStats`), and
the audit log's entries, with the conversation's number in place of the link to it.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import bindparam, delete, func, inspect, or_, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from handoff.store.attachments import AttachmentStore
from handoff.store.models import (
    AuditLog,
    Author,
    Citizen,
    Conversation,
    ConversationStats,
    DomainOutcome,
    Handoff,
    Message,
    NluInboxItem,
    PurgeTask,
    TrainingExample,
    as_utc,
)
from handoff.store.outcomes import within_wgs_norm

log = logging.getLogger(__name__)
FALLBACK = "nlu_fallback"
TASK_BATCH = 500


@dataclass(frozen=True)
class Forgotten:
    conversations: int
    messages: int
    citizens: int


def forget(session: Session, conversations: Sequence[Conversation], *, erase_inbox: bool) -> Forgotten:
    """Delete these conversations and everything of theirs (see the module docstring).

    `erase_inbox`: the citizen asked; their messages' NLU inbox items and the training
    examples annotated from them go too. Retention leaves those (masked; inbox items have
    their own retention, examples stay training data) and only unlinks them."""
    if not conversations:
        return Forgotten(0, 0, 0)
    ids = [c.id for c in conversations]
    citizen_ids = {c.citizen_id for c in conversations}
    messages = session.scalars(select(Message).where(Message.conversation_id.in_(ids))).all()
    handoffs = session.scalars(select(Handoff).where(Handoff.conversation_id.in_(ids))).all()
    for conversation in conversations:
        session.add(_stats(conversation, messages, handoffs))
        if conversation.tracker_deleted_at is None:
            add_purge_task(session, "tracker", conversation.rasa_sender_id)
    for message in messages:
        for entry in message.attachments or []:
            if isinstance(entry, dict) and isinstance(entry.get("id"), str):
                add_purge_task(session, "attachment", entry["id"])
    message_ids = [m.id for m in messages]
    if message_ids:
        inbox = select(NluInboxItem.id).where(NluInboxItem.message_id.in_(message_ids)).scalar_subquery()
        if erase_inbox:
            session.execute(delete(NluInboxItem).where(NluInboxItem.id.in_(inbox)))
        else:
            session.execute(
                update(NluInboxItem).where(NluInboxItem.id.in_(inbox)).values(message_id=None),
                execution_options={"synchronize_session": False},
            )
    examples = or_(TrainingExample.conversation_id.in_(ids), TrainingExample.message_id.in_(message_ids))
    if erase_inbox:
        session.execute(delete(TrainingExample).where(examples), execution_options={"synchronize_session": False})
    else:
        session.execute(
            update(TrainingExample).where(examples).values(conversation_id=None, message_id=None),
            execution_options={"synchronize_session": False},
        )
    # results per life domain hold no text: they stay, unlinked and kept to the day (handoff/store/outcomes.py)
    for result in session.scalars(select(DomainOutcome).where(DomainOutcome.conversation_id.in_(ids))):
        result.conversation_id = None
        result.closed_at = dt.datetime.combine(as_utc(result.closed_at).date(), dt.time.min, tzinfo=dt.timezone.utc)
    for logged in session.scalars(select(AuditLog).where(AuditLog.conversation_id.in_(ids))):
        logged.detail = {**(logged.detail or {}), "conversation": logged.conversation_id}
        logged.conversation_id = None
    session.flush()
    session.execute(
        delete(Message).where(Message.conversation_id.in_(ids)), execution_options={"synchronize_session": False}
    )
    session.execute(
        delete(Handoff).where(Handoff.conversation_id.in_(ids)), execution_options={"synchronize_session": False}
    )
    session.execute(
        delete(Conversation).where(Conversation.id.in_(ids)), execution_options={"synchronize_session": False}
    )
    left = select(Conversation.id).where(Conversation.citizen_id == Citizen.id).exists()
    gone = session.execute(
        delete(Citizen).where(Citizen.id.in_(citizen_ids), ~left), execution_options={"synchronize_session": False}
    )
    session.expire_all()
    return Forgotten(len(ids), len(message_ids), int(gone.rowcount or 0))  # type: ignore[attr-defined]


def _stats(conversation: Conversation, messages: Sequence[Message], handoffs: Sequence[Handoff]) -> ConversationStats:
    parses = [m.nlu for m in messages if m.conversation_id == conversation.id and m.author is Author.citizen and m.nlu]
    return ConversationStats(
        created_on=conversation.created_at.date(),
        channel=conversation.channel.value,
        citizen_messages=len(parses),
        fallbacks=sum(1 for parse in parses if parse.get("intent") == FALLBACK),
        handoffs=[_handoff_stats(h, conversation.team_id) for h in handoffs if h.conversation_id == conversation.id],
    )


def _handoff_stats(handoff: Handoff, team_id: int | None = None) -> dict[str, object]:
    wait = within_norm = None
    if handoff.claimed_at is not None:
        wait = max(0.0, (handoff.claimed_at - handoff.queued_at).total_seconds() / 60)
        within_norm = within_wgs_norm(handoff.urgency.value, handoff.queued_at, handoff.claimed_at)
    return {
        "queued_on": handoff.queued_at.date().isoformat(),
        "urgency": handoff.urgency.value,
        "domains": list(handoff.domains or []),
        "wait_minutes": wait,
        "outcome": handoff.outcome.value if handoff.outcome else None,
        "team_id": team_id,
        "within_norm": within_norm,
    }


def add_purge_task(session: Session, kind: str, ref: str) -> None:
    """Once per (kind, ref), also when two deletions race."""
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    session.execute(
        insert(PurgeTask).values(kind=kind, ref=ref, created_at=func.now(), attempts=0).on_conflict_do_nothing()
    )


def run_purge_tasks(sessions: sessionmaker[Session], attachments: AttachmentStore, trackers: Engine | None) -> int:
    """Delete the files and trackers the tasks name; a task goes when its deletion worked.
    Returns how many were done. Safe to run in several processes at once (deleting twice
    is deleting once)."""
    with sessions() as session:
        tasks = session.execute(
            select(PurgeTask.id, PurgeTask.kind, PurgeTask.ref).order_by(PurgeTask.id).limit(TASK_BATCH)
        ).all()
    if not tasks:
        return 0
    done: list[int] = []
    failed: list[int] = []
    senders = [(task_id, ref) for task_id, kind, ref in tasks if kind == "tracker"]
    if senders:
        (done if delete_trackers(trackers, [ref for _id, ref in senders]) else failed).extend(i for i, _ in senders)
    for task_id, kind, ref in tasks:
        if kind != "attachment":
            continue
        try:
            attachments.delete(ref)
            done.append(task_id)
        except (OSError, SQLAlchemyError):
            log.warning("an attachment could not be deleted yet; trying again later")
            failed.append(task_id)
    with sessions.begin() as session:
        if done:
            session.execute(delete(PurgeTask).where(PurgeTask.id.in_(done)))
        if failed:
            session.execute(update(PurgeTask).where(PurgeTask.id.in_(failed)).values(attempts=PurgeTask.attempts + 1))
    return len(done)


def delete_trackers(trackers: Engine | None, senders: list[str]) -> bool:
    """Delete these conversations' rows from Rasa's `events` table; False when the tracker
    database cannot be reached (try again later). Shared with tracker_retention.py."""
    if trackers is None:
        return True  # no tracker store configured: Rasa keeps nothing the desk could delete
    try:
        if not inspect(trackers).has_table("events"):  # Rasa creates it on its first start
            return True
        with trackers.begin() as conn:
            conn.execute(
                text("DELETE FROM events WHERE sender_id IN :senders").bindparams(bindparam("senders", expanding=True)),
                {"senders": senders},
            )
    except SQLAlchemyError:
        log.warning("Rasa's tracker database is not reachable; its trackers are deleted later")
        return False
    return True
