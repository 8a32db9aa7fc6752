"""Where a citizen stands in the queue, and an honest expected wait.

Every line that tells a citizen when a person answers is built here, from the office hours
and the live queue: at night it says when the team is back, never "a few minutes".
"""

from __future__ import annotations

import datetime as dt
import statistics

from sqlalchemy import select
from sqlalchemy.orm import Session

from handoff.store.conversations import waiting
from handoff.store.models import Handoff, as_utc
from handoff.store.office_hours import OfficeHours

MIN_SAMPLES = 5
RECENT = 20
LONGEST_SAMPLE = dt.timedelta(hours=8)
"""A wait longer than a working day spanned a closed night or weekend: not a typical wait."""


def position(session: Session, conversation_id: int) -> int | None:
    """1 = next in line; None when the conversation is not waiting."""
    for index, handoff in enumerate(waiting(session), start=1):
        if handoff.conversation_id == conversation_id:
            return index
    return None


def typical_wait_minutes(session: Session, hours: OfficeHours | None = None) -> int | None:
    """Median minutes from queued to claimed over recent handoffs queued while the team was
    there; None with too little data."""
    rows = session.execute(
        select(Handoff.queued_at, Handoff.claimed_at)
        .where(Handoff.claimed_at.is_not(None))
        .order_by(Handoff.claimed_at.desc())
        .limit(RECENT * 3)
    ).all()
    waits = [
        (claimed - queued).total_seconds() / 60
        for queued, claimed in rows
        if claimed - queued <= LONGEST_SAMPLE and (hours is None or hours.is_open(as_utc(queued)))
    ][:RECENT]
    if len(waits) < MIN_SAMPLES:
        return None
    return max(1, round(statistics.median(waits)))


def describe(
    session: Session, conversation_id: int, hours: OfficeHours | None = None, now: dt.datetime | None = None
) -> str | None:
    """Dutch: 'Je bent nummer 2 in de rij. Meestal duurt het ongeveer 6 minuten ...' while the
    team is there; 'Je bent nummer 2 in de rij. Onze medewerkers zijn er weer maandag om 9.00 uur.'
    when it is not."""
    place = position(session, conversation_id)
    if place is None:
        return None
    text = "Je bent de volgende in de rij." if place == 1 else f"Je bent nummer {place} in de rij."
    if hours is not None:
        moment = now or dt.datetime.now(dt.timezone.utc)
        if not hours.is_open(moment):
            return text + f" Onze medewerkers zijn er weer {hours.describe_next_opening(moment)}."
    minutes = typical_wait_minutes(session, hours)
    if minutes is None:
        return text + " Hoe lang het duurt, weten we nog niet precies."
    if minutes >= 90:
        return text + f" Meestal duurt het ongeveer {round(minutes / 60)} uur tot een medewerker reageert."
    return text + f" Meestal duurt het ongeveer {minutes} minuten tot een medewerker reageert."
