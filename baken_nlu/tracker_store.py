"""Rasa's SQL tracker store with a fence, for several Rasa servers on one database (issue 13).

The desk sends each conversation to one Rasa replica (bot/rasa_pool.py). A replica that
froze mid-message (SIGSTOP, a long GC pause, an overloaded VM) can wake up after the desk has
moved the conversation to the next replica, and then save its own copy of that turn. Rasa's
SQLTrackerStore appends "the events after the ones stored", counted at save time, so that
late save would land after the other replica's events: the turn doubled in the tracker.

This store remembers, per tracker it hands out, how many events of the current session were
stored when it was loaded. A save appends only when that count is still the count in the
database (checked and written in one transaction; on PostgreSQL under a transaction-level
advisory lock per conversation), so of two replicas that loaded the same tracker only the
first save lands; the late one is logged and dropped. Nothing else changes: it reads and
writes Rasa's own tables, and the embedded SQLite default uses it too.
"""

from __future__ import annotations

import hashlib
import json
import logging
from typing import Any

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import Event, SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY

log = logging.getLogger(__name__)

STORED_ATTRIBUTE = "_baken_stored_events"
"""Set on each tracker this store returns or saves: (events of its latest session in the
database, events of the tracker object already stored). The two differ when the object also
holds events of an earlier session (a session that started in memory)."""


def advisory_key(sender_id: str) -> int:
    """A stable signed 64-bit key for pg_advisory_xact_lock."""
    return int.from_bytes(hashlib.sha256(sender_id.encode()).digest()[:8], "big", signed=True)


class FencedSQLTrackerStore(SQLTrackerStore):
    """SQLTrackerStore whose save refuses a tracker that changed in the database since it was loaded."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.engine.hide_parameters = True  # an error's log line never shows the events (citizen text)

    async def _retrieve(self, sender_id: str, fetch_events_from_all_sessions: bool) -> DialogueStateTracker | None:
        tracker = await super()._retrieve(sender_id, fetch_events_from_all_sessions)
        if tracker is not None and not fetch_events_from_all_sessions:
            # the events of the latest session, exactly what the save below counts
            setattr(tracker, STORED_ATTRIBUTE, (len(tracker.events), len(tracker.events)))
        return tracker

    async def save(self, tracker: DialogueStateTracker) -> None:
        # a new tracker: nothing stored yet
        loaded, saved_up_to = getattr(tracker, STORED_ATTRIBUTE, (0, 0))
        with self.session_scope() as session:
            if self.engine.dialect.name == "postgresql":
                session.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": advisory_key(tracker.sender_id)})
            stored = self._event_query(session, tracker.sender_id, fetch_events_from_all_sessions=False).count()
            if stored != loaded:
                log.warning(
                    "Tracker %s changed since this Rasa server loaded it (%d events stored, %d at load): another "
                    "server handled the conversation meanwhile; this server's %d new events are dropped",
                    _short(tracker.sender_id),
                    stored,
                    loaded,
                    max(len(tracker.events) - saved_up_to, 0),
                )
                return
            events = list(tracker.events)
            new_events = events[saved_up_to:]
            for event in new_events:
                data = event.as_dict()
                session.add(
                    self.SQLEvent(
                        sender_id=tracker.sender_id,
                        type_name=event.type_name,
                        timestamp=data.get("timestamp"),
                        intent_name=data.get("parse_data", {}).get("intent", {}).get(INTENT_NAME_KEY),
                        action_name=data.get("name"),
                        data=json.dumps(data),
                    )
                )
            session.commit()
        setattr(tracker, STORED_ATTRIBUTE, (_latest_session_count(stored, new_events), len(events)))
        await self.stream_events(tracker)


def _latest_session_count(stored: int, new_events: list[Event]) -> int:
    """Events of the latest session in the database after appending `new_events` to `stored`
    of them, as Rasa's session query counts them (from the last SessionStarted on), derived
    instead of counted again."""
    starts = [i for i, event in enumerate(new_events) if isinstance(event, SessionStarted)]
    return len(new_events) - starts[-1] if starts else stored + len(new_events)


def _short(sender_id: str) -> str:
    """Enough of a sender id to follow a log line, not the whole id (it names a citizen's chat)."""
    return hashlib.sha256(sender_id.encode()).hexdigest()[:10]
