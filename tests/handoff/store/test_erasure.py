"""Erasure on request removes every trace of the citizen (rows, files, tracker) and keeps
only that it happened; on SQLite and PostgreSQL (handoff/store/erasure.py)."""

from __future__ import annotations

import datetime as dt
import functools
from pathlib import Path

from sqlalchemy import String, Text, select
from sqlalchemy.orm import Session, sessionmaker

from handoff.admin.dashboard import figures
from handoff.learning import training_export
from handoff.store import conversations as convs
from handoff.store.attachments import AttachmentStore
from handoff.store.db import Base
from handoff.store.erasure import erase_citizen
from handoff.store.forget import run_purge_tasks
from handoff.store.models import (
    AuditLog,
    Channel,
    Conversation,
    ConversationStatus,
    InboxStatus,
    NluInboxItem,
    TrainingExample,
    utcnow,
)
from tests.handoff.store.history import WORDS, conversation, tracker_senders, tracker_store

WHO = "visitor-erase-0123456789"
SECRET = "de schuld bij de woningcorporatie en mijn depressie"


def every_text(session: Session) -> str:
    """Every string in every table of the desk's database, as one text to search."""
    found: list[str] = []
    for table in Base.metadata.sorted_tables:
        for row in session.execute(select(table)).mappings():
            found.extend(repr(value) for value in row.values() if value is not None)
    return "\n".join(found)


def test_erasure_removes_every_trace_and_keeps_that_it_happened(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    store, trackers = AttachmentStore(tmp_path / "files"), tracker_store(tmp_path)
    now = utcnow()
    with sessions.begin() as session:
        mine = functools.partial(conversation, session, WHO, store=store, trackers=trackers, now=now, words=SECRET)
        closed = mine(days_ago=20, closed_days_ago=19)
        open_ = mine(days_ago=0, status=ConversationStatus.with_worker)
        other = conversation(
            session, "someone-else-0123456789", days_ago=1, closed_days_ago=1, trackers=trackers, now=now
        )
        convs.audit(session, "view", conversation=session.get(Conversation, open_.conversation_id))
        for item in session.scalars(select(NluInboxItem)):  # an admin made training examples of them
            item.status, item.annotated_intent = InboxStatus.annotated, "ask_deurwaarder"
        assert training_export.export_annotated(session).total == 3
    period = ((now - dt.timedelta(days=30)).date(), now.date())
    with sessions() as session:
        before = figures(session, *period)
    with sessions.begin() as session:
        citizen = convs.find_citizen(session, Channel.widget, WHO)
        assert citizen is not None
        erased = erase_citizen(session, citizen)
    assert erased.conversation_ids == [closed.conversation_id, open_.conversation_id]
    assert erased.with_people == [(open_.conversation_id, erased.with_people[0][1])]
    assert {e["conversation_id"] for e in erased.events()} == {closed.conversation_id, open_.conversation_id}
    assert run_purge_tasks(sessions, store, trackers) == 4  # two files, two trackers

    with sessions() as session:
        everything = every_text(session)
        assert WHO not in everything and SECRET not in everything and "depressie" not in everything
        assert WORDS in everything  # the other citizen's words are still there: the scan finds text
        assert [e.text for e in session.scalars(select(TrainingExample))] == [WORDS]  # theirs stays training data
        entry = session.scalars(select(AuditLog).where(AuditLog.action == "erase")).one()
        assert entry.detail == {
            "by": "citizen",
            "channel": "widget",
            "conversations": [closed.conversation_id, open_.conversation_id],
        }
        after = figures(session, *period)
    assert tracker_senders(trackers) == {other.sender}
    assert list((tmp_path / "files").iterdir()) == []
    assert (after.conversations, after.handed_off, after.outcomes) == (
        before.conversations,
        before.handed_off,
        before.outcomes,
    )


def test_every_text_column_is_searched() -> None:
    """The scan above must look at the columns citizen text can be in."""
    text_columns = {
        f"{table.name}.{column.name}"
        for table in Base.metadata.sorted_tables
        for column in table.columns
        if isinstance(column.type, String | Text)
    }
    assert {
        "messages.text",
        "handoffs.summary",
        "citizens.external_id",
        "nlu_inbox_items.masked_text",
        "training_examples.text",
    } <= text_columns
