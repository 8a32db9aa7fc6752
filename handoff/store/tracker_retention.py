"""Bounded growth of Rasa's tracker store: the trackers of closed conversations go.

Rasa Open Source keeps every event of every conversation forever and has no retention of
its own. A closed conversation is never reopened (the citizen's next message starts a new
one with a new Rasa sender id), so its tracker is only history Baken already keeps in its
own store. The desk deletes the tracker's rows from Rasa's `events` table once the
conversation has been closed for `retention` (RASA tracker retention setting), and marks
the conversation so it is not looked at again.
"""

from __future__ import annotations

import datetime as dt
import logging

from sqlalchemy import select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from handoff.store.forget import delete_trackers
from handoff.store.models import Conversation, ConversationStatus, utcnow

log = logging.getLogger(__name__)
BATCH = 500


def purge(session: Session, trackers: Engine, retention: dt.timedelta, now: dt.datetime | None = None) -> int:
    """Delete Rasa's trackers of conversations closed before now − retention; how many."""
    now = now or utcnow()
    rows = session.execute(
        select(Conversation.id, Conversation.rasa_sender_id)
        .where(
            Conversation.status == ConversationStatus.closed,
            Conversation.closed_at < now - retention,
            Conversation.tracker_deleted_at.is_(None),
        )
        .order_by(Conversation.id)
        .limit(BATCH)
    ).all()
    if not rows:
        return 0
    if not delete_trackers(trackers, [sender for _id, sender in rows]):
        return 0  # Rasa's tracker database is away: these conversations are looked at next time
    session.execute(
        update(Conversation)
        .where(Conversation.id.in_([conversation_id for conversation_id, _sender in rows]))
        .values(tracker_deleted_at=now)
        .execution_options(synchronize_session=False)
    )
    log.info("deleted Rasa's trackers of %s closed conversation(s)", len(rows))
    return len(rows)
