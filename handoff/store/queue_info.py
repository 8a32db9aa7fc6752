"""Where a citizen stands in the queue, and an honest expected wait.

Every line that tells a citizen when a person answers is built here, from the office hours
and the live queue: at night it says when the team is back, never "a few minutes". A
conversation routed to a team (handoff/store/teams.py) hears that team's name, its place
in that team's line (every crisis counts as ahead) and that team's hours.
"""

from __future__ import annotations

import datetime as dt
import statistics

from sqlalchemy import select
from sqlalchemy.orm import Session

from handoff.store.conversations import waiting
from handoff.store.models import Conversation, Handoff, Urgency, as_utc
from handoff.store.office_hours import OfficeHours
from handoff.store.teams import team_hours, team_of

MIN_SAMPLES = 5
RECENT = 20
LONGEST_SAMPLE = dt.timedelta(hours=8)
"""A wait longer than a working day spanned a closed night or weekend: not a typical wait."""


def position(session: Session, conversation_id: int) -> int | None:
    """1 = next in line (of its team, with every crisis ahead); None when it is not waiting."""
    conversation = session.get(Conversation, conversation_id)
    line = waiting(session)
    if conversation is not None and conversation.team_id is not None:
        line = [h for h in line if h.conversation.team_id == conversation.team_id or h.urgency is Urgency.crisis]
    for index, handoff in enumerate(line, start=1):
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
    conversation = session.get(Conversation, conversation_id)
    team = team_of(session, conversation) if conversation is not None else None
    if team is not None:
        text = f"Je vraag ligt bij {team.name}. {text}"
        hours = team_hours(team, hours) if hours is not None else None
    if hours is not None:
        moment = now or dt.datetime.now(dt.timezone.utc)
        if not hours.is_open(moment):
            who = f"De medewerkers van {team.name}" if team is not None else "Onze medewerkers"
            return text + f" {who} zijn er weer {hours.describe_next_opening(moment)}."
    minutes = typical_wait_minutes(session, hours)
    if minutes is None:
        return text + " Hoe lang het duurt, weten we nog niet precies."
    if minutes >= 90:
        return text + f" Meestal duurt het ongeveer {round(minutes / 60)} uur tot een medewerker reageert."
    return text + f" Meestal duurt het ongeveer {minutes} minuten tot een medewerker reageert."
