"""What a waiting citizen is told: the place in the queue, and a wait that holds at any hour."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session, sessionmaker

from handoff.store import conversations as convs
from handoff.store import queue_info
from handoff.store.models import Channel, Handoff
from handoff.store.office_hours import OfficeHours

AMS = ZoneInfo("Europe/Amsterdam")
HOURS = OfficeHours.from_settings(
    {day: "09:00-17:00" for day in ("monday", "tuesday", "wednesday", "thursday", "friday")}
)
TUESDAY_10 = dt.datetime(2026, 12, 1, 10, 0, tzinfo=AMS)


def waiting_conversation(session: Session, who: str) -> int:
    conversation = convs.active_conversation(session, convs.citizen_for(session, Channel.widget, who))
    convs.queue(session, conversation, reason="request_human")
    return conversation.id


def past_handoff(session: Session, who: str, queued: dt.datetime, wait: dt.timedelta) -> None:
    conversation = convs.active_conversation(session, convs.citizen_for(session, Channel.widget, who))
    session.add(
        Handoff(conversation_id=conversation.id, reason="request_human", queued_at=queued, claimed_at=queued + wait)
    )


def test_at_night_the_queue_says_when_the_team_is_back_not_minutes(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        for index in range(6):  # six quick claims on Tuesday morning
            past_handoff(session, f"past{index:02d}" * 2, TUESDAY_10 - dt.timedelta(days=7), dt.timedelta(minutes=4))
        first = waiting_conversation(session, "a" * 16)
        second = waiting_conversation(session, "b" * 16)
    with sessions() as session:
        assert queue_info.describe(session, first, HOURS, TUESDAY_10) == (
            "Je bent de volgende in de rij. Meestal duurt het ongeveer 4 minuten tot een medewerker reageert."
        )
        saturday_night = dt.datetime(2026, 12, 5, 23, 0, tzinfo=AMS)
        text = queue_info.describe(session, second, HOURS, saturday_night)
        assert text == "Je bent nummer 2 in de rij. Onze medewerkers zijn er weer maandag om 9.00 uur."


def test_waits_that_spanned_a_night_or_began_outside_hours_are_not_typical(sessions: sessionmaker[Session]) -> None:
    friday_evening = dt.datetime(2026, 11, 27, 18, 0, tzinfo=AMS)
    with sessions.begin() as session:
        for index in range(6):  # queued Friday evening, claimed Monday: 63 hours
            past_handoff(session, f"wknd{index:02d}" * 2, friday_evening, dt.timedelta(hours=63))
        for index in range(4):
            past_handoff(session, f"fast{index:02d}" * 2, TUESDAY_10 - dt.timedelta(days=1), dt.timedelta(minutes=10))
    with sessions() as session:
        assert queue_info.typical_wait_minutes(session, HOURS) is None  # four real samples: too few to say
        assert queue_info.typical_wait_minutes(session) is None  # the long ones never count
