"""Retention: what the desk keeps, and for how long (issue 14; README, "Privacy").

One periodic job (desk/lifespan.py, once per round however many desk processes run) goes
through the kinds below, oldest first, in batches. Every period counts from the moment a
conversation was closed, because until then a worker may still need it:

- attachments (photos and files of letters, often full of personal data) are deleted
  `attachments` after closing; the message keeps a line saying a file was there;
- handoff summaries and case notes (the citizen's words repeated) are emptied `summaries`
  after closing;
- the conversation itself, its messages and handoffs, go `conversations` after closing
  (handoff/store/forget.py), the dashboard keeps its counts;
- a conversation that stayed with the assistant and saw no message for `conversations`
  is closed and goes the same way (nobody closes those);
- audit entries go `audit` after they were written.

Conversations waiting for or with a worker are never deleted by retention: a person has
to finish them first. Rasa's trackers (tracker_retention.py) and the NLU inbox
(nlu_inbox.py) have their own, shorter periods.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import ColumnElement, delete, func, select, update
from sqlalchemy.orm import Session

from handoff.config import DeskSettings
from handoff.store import conversations as convs
from handoff.store.forget import add_purge_task, forget
from handoff.store.models import (
    AuditLog,
    Conversation,
    ConversationStatus,
    Handoff,
    Message,
    Outcome,
    utcnow,
)

BATCH = 200
REMOVED_NOTE = "verwijderd na de bewaartermijn"


@dataclass(frozen=True)
class Policy:
    conversations: dt.timedelta = dt.timedelta(days=90)
    summaries: dt.timedelta = dt.timedelta(days=30)
    attachments: dt.timedelta = dt.timedelta(days=30)
    audit: dt.timedelta = dt.timedelta(days=365)
    trackers: dt.timedelta = dt.timedelta(hours=24)
    """Rasa's trackers of closed conversations (deleted by tracker_retention.py)."""

    @classmethod
    def from_settings(cls, desk: DeskSettings) -> Policy:
        return cls(
            conversations=dt.timedelta(days=desk.retention_conversation_days),
            summaries=dt.timedelta(days=desk.retention_summary_days),
            attachments=dt.timedelta(days=desk.retention_attachment_days),
            audit=dt.timedelta(days=desk.retention_audit_days),
            trackers=dt.timedelta(hours=desk.tracker_retention_hours),
        )


@dataclass
class Report:
    attachments: int = 0
    summaries: int = 0
    idle_closed: int = 0
    conversations: int = 0
    audit_entries: int = 0

    def total(self) -> int:
        return self.attachments + self.summaries + self.idle_closed + self.conversations + self.audit_entries


def run(session: Session, policy: Policy, now: dt.datetime | None = None) -> Report:
    """One round over every kind (a batch of each); the caller commits."""
    now = now or utcnow()
    report = Report()
    report.attachments = delete_attachments(session, now - policy.attachments, now)
    report.summaries = empty_summaries(session, now - policy.summaries)
    report.idle_closed = close_idle(session, now - policy.conversations)
    report.conversations = delete_conversations(session, now - policy.conversations)
    report.audit_entries = delete_audit(session, now - policy.audit)
    return report


def _closed_before(cutoff: dt.datetime) -> list[ColumnElement[bool]]:
    return [Conversation.status == ConversationStatus.closed, Conversation.closed_at < cutoff]


def delete_attachments(session: Session, cutoff: dt.datetime, now: dt.datetime) -> int:
    """Files of conversations closed before `cutoff`: deleted (via purge tasks), the entry
    in the message kept as a note without name. Returns how many conversations."""
    ids = session.scalars(
        select(Conversation.id)
        .where(*_closed_before(cutoff), Conversation.attachments_deleted_at.is_(None))
        .order_by(Conversation.id)
        .limit(BATCH)
    ).all()
    if not ids:
        return 0
    for message in session.scalars(
        select(Message).where(Message.conversation_id.in_(ids), Message.attachments.is_not(None))
    ):
        kept = []
        for entry in message.attachments or []:
            if isinstance(entry, dict) and isinstance(entry.get("id"), str):
                add_purge_task(session, "attachment", entry["id"])
                entry = {"kind": str(entry.get("kind") or "document"), "note": REMOVED_NOTE}
            kept.append(entry)
        message.attachments = kept
    session.execute(
        update(Conversation).where(Conversation.id.in_(ids)).values(attachments_deleted_at=now),
        execution_options={"synchronize_session": False},
    )
    return len(ids)


def empty_summaries(session: Session, cutoff: dt.datetime) -> int:
    """Summaries and case notes of handoffs closed before `cutoff`."""
    ids = session.scalars(
        select(Handoff.id)
        .where(Handoff.closed_at < cutoff, (Handoff.summary != "") | Handoff.case_note.is_not(None))
        .order_by(Handoff.id)
        .limit(BATCH)
    ).all()
    if ids:
        session.execute(
            update(Handoff).where(Handoff.id.in_(ids)).values(summary="", case_note=None),
            execution_options={"synchronize_session": False},
        )
    return len(ids)


def last_activity() -> ColumnElement[dt.datetime]:
    """A conversation's last message time (its start when it has none), for a query on Conversation."""
    last = select(func.max(Message.created_at)).where(Message.conversation_id == Conversation.id).scalar_subquery()
    return func.coalesce(last, Conversation.created_at)


def close_idle(session: Session, cutoff: dt.datetime) -> int:
    """Conversations still with the assistant whose last message is older than `cutoff`."""
    last_at = last_activity()
    idle = session.execute(
        select(Conversation, last_at)
        .where(Conversation.status == ConversationStatus.bot, last_at < cutoff)
        .order_by(Conversation.id)
        .limit(BATCH)
    ).all()
    for conversation, last_message_at in idle:
        convs.close(session, conversation, None, Outcome.no_response)
        conversation.closed_at = last_message_at  # closed since its last message: it goes in this round
    session.flush()
    return len(idle)


def delete_conversations(session: Session, cutoff: dt.datetime) -> int:
    conversations = session.scalars(
        select(Conversation).where(*_closed_before(cutoff)).order_by(Conversation.id).limit(BATCH)
    ).all()
    return forget(session, conversations, erase_inbox=False).conversations


def delete_audit(session: Session, cutoff: dt.datetime) -> int:
    result = session.execute(
        delete(AuditLog).where(AuditLog.at < cutoff), execution_options={"synchronize_session": False}
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
