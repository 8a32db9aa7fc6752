"""Where a citizen stands in the queue, and an honest expected wait."""

from __future__ import annotations

import statistics

from sqlalchemy import select
from sqlalchemy.orm import Session

from handoff.conversations import waiting
from handoff.models import Handoff

MIN_SAMPLES = 5
RECENT = 20


def position(session: Session, conversation_id: int) -> int | None:
    """1 = next in line; None when the conversation is not waiting."""
    for index, handoff in enumerate(waiting(session), start=1):
        if handoff.conversation_id == conversation_id:
            return index
    return None


def typical_wait_minutes(session: Session) -> int | None:
    """Median minutes from queued to claimed over recent handoffs; None with too little data."""
    rows = session.execute(
        select(Handoff.queued_at, Handoff.claimed_at)
        .where(Handoff.claimed_at.is_not(None))
        .order_by(Handoff.claimed_at.desc())
        .limit(RECENT)
    ).all()
    if len(rows) < MIN_SAMPLES:
        return None
    waits = [(claimed - queued).total_seconds() / 60 for queued, claimed in rows]
    return max(1, round(statistics.median(waits)))


def describe(session: Session, conversation_id: int) -> str | None:
    """Dutch: 'Je bent nummer 2 in de rij. Meestal duurt het ongeveer 6 minuten.'"""
    place = position(session, conversation_id)
    if place is None:
        return None
    text = "Je bent de volgende in de rij." if place == 1 else f"Je bent nummer {place} in de rij."
    minutes = typical_wait_minutes(session)
    if minutes is None:
        return text + " Hoe lang het duurt, weten we nog niet precies."
    return text + f" Meestal duurt het ongeveer {minutes} minuten tot een medewerker reageert."
