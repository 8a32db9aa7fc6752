"""Dashboard figures on both databases, from rows with known times."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session, sessionmaker

from handoff.admin import charts, dashboard
from handoff.store.models import (
    Author,
    Channel,
    Citizen,
    Conversation,
    Handoff,
    Message,
    Outcome,
    Urgency,
)

DAY = dt.datetime(2026, 11, 2, 10, 0, tzinfo=dt.timezone.utc)


def conversation(session: Session, n: int, created: dt.datetime) -> Conversation:
    citizen = Citizen(channel=Channel.widget, external_id=f"visitor-{n}")
    session.add(citizen)
    session.flush()
    item = Conversation(
        citizen_id=citizen.id, channel=Channel.widget, rasa_sender_id=f"s-{n}", created_at=created, updated_at=created
    )
    session.add(item)
    session.flush()
    return item


def test_figures_for_a_period(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        first = conversation(session, 1, DAY)
        second = conversation(session, 2, DAY + dt.timedelta(days=1))
        conversation(session, 3, DAY + dt.timedelta(days=1))
        conversation(session, 4, DAY + dt.timedelta(days=40))  # outside the period
        for minutes, urgency, target, outcome in [
            (4, Urgency.crisis, first, Outcome.resolved),
            (30, Urgency.normal, second, Outcome.referred),
        ]:
            session.add(
                Handoff(
                    conversation_id=target.id,
                    reason="request_human",
                    urgency=urgency,
                    queued_at=DAY,
                    claimed_at=DAY + dt.timedelta(minutes=minutes),
                    closed_at=DAY + dt.timedelta(hours=1),
                    outcome=outcome,
                )
            )
        for n, intent in enumerate(["nlu_fallback", "ask_huurtoeslag", "ask_bijstand", "nlu_fallback"]):
            session.add(
                Message(
                    conversation_id=first.id,
                    author=Author.citizen,
                    text=f"bericht {n}",
                    nlu={"intent": intent, "confidence": 0.5},
                    created_at=DAY,
                )
            )
    with sessions() as session:
        found = dashboard.figures(session, DAY.date(), DAY.date() + dt.timedelta(days=6))
    assert found.conversations == 3
    assert found.conversations_per_day["2026-11-02"] == 1 and found.conversations_per_day["2026-11-03"] == 2
    assert len(found.conversations_per_day) == 7
    assert found.handed_off == 2 and round(found.handoff_rate, 3) == 0.667
    assert found.fallbacks == 2 and found.fallback_rate == 0.5
    assert found.waiting_minutes["crisis"] == {"count": 1, "median": 4.0, "p90": 4.0}
    assert found.waiting_minutes["normal"]["median"] == 30.0 and found.waiting_minutes["urgent"]["count"] == 0
    assert found.outcomes == {"resolved": 1, "referred": 1}
    svg = charts.day_bars(found.conversations_per_day, "Gesprekken per dag")
    assert svg.count("<rect") == 1 + 7 and "2026-11-03: 2" in svg
