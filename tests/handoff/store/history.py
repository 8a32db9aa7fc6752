"""A conversation with everything a citizen can leave behind, dated in the past: for the
retention and erasure tests (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from handoff.store import conversations as convs
from handoff.store.attachments import AttachmentStore
from handoff.store.models import (
    AuditLog,
    Author,
    Channel,
    ConversationStatus,
    NluInboxItem,
    Outcome,
    Urgency,
    Worker,
    utcnow,
)

WORDS = "mijn ex bedreigt me en de deurwaarder staat voor de deur"
"""The citizen's words: no test may find them anywhere after the deletion."""


@dataclass
class Made:
    conversation_id: int
    citizen_id: int
    sender: str
    token: str | None


def tracker_store(folder: Path) -> Engine:
    """A tracker database with Rasa's `events` table (sender_id, data), as SQLTrackerStore has it."""
    engine = create_engine(f"sqlite:///{folder / 'trackers.db'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY, sender_id TEXT, data TEXT)"))
    return engine


def tracker_senders(trackers: Engine) -> set[str]:
    with trackers.connect() as conn:
        return set(conn.execute(text("SELECT sender_id FROM events")).scalars())


def worker(session: Session, name: str = "anna") -> Worker:
    found = session.query(Worker).filter_by(name=name).one_or_none()
    if found is None:
        found = Worker(name=name, password_hash="x")
        session.add(found)
        session.flush()
    return found


def conversation(
    session: Session,
    who: str,
    *,
    days_ago: float,
    closed_days_ago: float | None = None,
    status: ConversationStatus = ConversationStatus.closed,
    store: AttachmentStore | None = None,
    trackers: Engine | None = None,
    channel: Channel = Channel.widget,
    now: dt.datetime | None = None,
    words: str = WORDS,
) -> Made:
    """A conversation begun `days_ago`: two citizen messages (one a fallback, one with a
    photo when `store` is given), a bot reply, a handoff with summary claimed after 3
    minutes, audit entries, an NLU inbox item; closed `closed_days_ago` when status is
    closed, otherwise left in `status`."""
    now = now or utcnow()
    began = now - dt.timedelta(days=days_ago)
    citizen = convs.citizen_for(session, channel, who, display_name="Fatima")
    conv = convs.active_conversation(session, citizen)
    token = None
    attachments = None
    if store is not None:
        entry = store.save(b"\xff\xd8\xff\xe0" + b"x" * 100, kind="photo", mime="image/jpeg", name="brief.jpg")
        token, attachments = entry["id"], [entry]
    first, _ = convs.record_message(session, conv, Author.citizen, words, attachments=attachments)
    first.nlu = {"intent": "nlu_fallback", "confidence": 0.2}
    second, _ = convs.record_message(session, conv, Author.citizen, "help")
    second.nlu = {"intent": "request_human", "confidence": 0.9}
    convs.record_message(session, conv, Author.bot, "Ik zet je door.")
    session.add(
        NluInboxItem(
            message_id=first.id,
            masked_text=words,
            group_key=words,
            reason="fallback",
            expires_at=now + dt.timedelta(days=30),
        )
    )
    if status is not ConversationStatus.bot:
        handoff = convs.queue(
            session, conv, reason="request_human", urgency=Urgency.urgent, domains=["financien"], summary=words
        )
        handoff.queued_at = began
        if status is not ConversationStatus.queued:
            anna = worker(session)
            convs.claim(session, conv.id, anna)
            handoff.claimed_at = began + dt.timedelta(minutes=3)
            if status is ConversationStatus.closed:
                convs.close(session, conv, anna, Outcome.referred, f"notitie: {words}")
                assert closed_days_ago is not None
                conv.closed_at = handoff.closed_at = now - dt.timedelta(days=closed_days_ago)
    for message in conv.messages:
        message.created_at = began
    conv.created_at = began
    for logged in session.query(AuditLog).filter_by(conversation_id=conv.id):
        logged.at = began
    if trackers is not None:
        with trackers.begin() as conn:
            conn.execute(
                text("INSERT INTO events (sender_id, data) VALUES (:s, :d)"), {"s": conv.rasa_sender_id, "d": words}
            )
    session.flush()
    return Made(conv.id, citizen.id, conv.rasa_sender_id, token)
