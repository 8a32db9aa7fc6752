"""Erasure on request (AVG art. 17): a citizen, or an admin on their behalf, deletes all of
the citizen's conversations, messages, attachments, NLU inbox items, the training examples
annotated from their messages (so the next model is trained without them) and Rasa trackers.

An open handoff ends with it: the worker's inbox hears `erased` and says so. The audit log
keeps that it happened (who asked, which channel, the conversations' numbers), not what was
said. The dashboard keeps its counts without text (handoff/store/forget.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from handoff.store import conversations as convs
from handoff.store import followups
from handoff.store.forget import forget
from handoff.store.models import Citizen, Conversation, ConversationStatus, Worker

OPEN = (ConversationStatus.queued, ConversationStatus.with_worker)


@dataclass
class Erased:
    citizen_id: int
    conversation_ids: list[int] = field(default_factory=list)
    with_people: list[tuple[int, int | None]] = field(default_factory=list)
    """(conversation id, worker id) of conversations that were waiting for or with a worker."""

    def events(self) -> list[dict[str, Any]]:
        """What the inbox streams hear: one `erased` per conversation."""
        return [
            {"type": "erased", "conversation_id": cid, "citizen_id": self.citizen_id, "worker_id": worker}
            for cid, worker in self.with_people
        ] + [
            {"type": "erased", "conversation_id": cid, "citizen_id": self.citizen_id}
            for cid in self.conversation_ids
            if cid not in {c for c, _w in self.with_people}
        ]


def erase_citizen(
    session: Session, citizen: Citizen, *, worker: Worker | None = None, reason: str | None = None
) -> Erased:
    """Delete everything of this citizen; the caller commits (then runs the purge tasks)."""
    conversations = session.scalars(
        select(Conversation).where(Conversation.citizen_id == citizen.id).order_by(Conversation.id)
    ).all()
    erased = Erased(
        citizen.id,
        [c.id for c in conversations],
        [(c.id, c.worker_id) for c in conversations if c.status in OPEN],
    )
    detail: dict[str, object] = {
        "by": "admin" if worker else "citizen",
        "channel": citizen.channel.value,
        "conversations": erased.conversation_ids,
    }
    if reason:
        detail["reason"] = reason
    followups.delete_for_citizen(session, erased.citizen_id)  # no check-in after an erasure
    forget(session, conversations, erase_inbox=True)
    session.execute(delete(Citizen).where(Citizen.id == erased.citizen_id))  # also one without conversations
    convs.audit(session, "erase", worker=worker, detail=detail)
    session.flush()
    return erased
