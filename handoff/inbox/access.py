"""Need-to-know in the inbox (issue 14): who may read which conversation, and the audit of it.

- A worker reads the transcripts and files of their own conversations (those assigned to
  them, also after closing).
- The queue shows each waiting conversation's summary only; opening a waiting conversation
  shows that summary too, until the worker claims it.
- Any other transcript (a colleague's, a closed one, one still with the assistant, or a
  waiting one in full) opens only with a reason, which goes into the audit log; its files
  then open for `WINDOW` too.
- Views are audited once per `WINDOW` per worker and conversation, so a page that re-reads
  a transcript on every live event does not fill the log.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from handoff.store import conversations as convs
from handoff.store.models import AuditLog, Conversation, Worker, utcnow

WINDOW = dt.timedelta(minutes=15)
READ_WITH_REASON = "view_with_reason"


def is_own(conversation: Conversation, worker: Worker) -> bool:
    return conversation.worker_id is not None and conversation.worker_id == worker.id


def _recent(session: Session, action: str, worker: Worker, conversation_id: int | None, now: dt.datetime) -> bool:
    where = (
        AuditLog.conversation_id.is_(None) if conversation_id is None else AuditLog.conversation_id == conversation_id
    )
    found = session.scalar(
        select(AuditLog.id)
        .where(AuditLog.action == action, AuditLog.worker_id == worker.id, where, AuditLog.at >= now - WINDOW)
        .limit(1)
    )
    return found is not None


def audit_once(session: Session, action: str, worker: Worker, conversation: Conversation | None = None) -> None:
    """An audit entry, unless the same worker had the same one on this conversation within WINDOW."""
    if not _recent(session, action, worker, conversation.id if conversation else None, utcnow()):
        convs.audit(session, action, worker=worker, conversation=conversation)


def may_read(session: Session, conversation: Conversation, worker: Worker) -> bool:
    """Own conversation, or read with a reason within WINDOW (the files of a transcript
    opened that way open too)."""
    return is_own(conversation, worker) or _recent(session, READ_WITH_REASON, worker, conversation.id, utcnow())
