"""Follow-up with consent through the dispatcher (issue 15): the offer comes after an answer
with a next step, at a calm moment, not on top of the assistant's own question; the buttons
are answered by the desk, never by the assistant; "gelukt" closes the loop, "het lukt niet"
goes back to the same team's queue with the earlier summary; typed text is a normal message.
SQLite and PostgreSQL, with a scripted assistant (what it understands is not tested here)."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from bot.rasa_client import BotReply
from bot.routing import Dispatcher, Inbound, InboundResult
from handoff.store import conversations as convs
from handoff.store import followups
from handoff.store.db import create_engine, session_factory
from handoff.store.events import EventBus
from handoff.store.migrate import upgrade
from handoff.store.models import (
    Channel,
    Conversation,
    ConversationStatus,
    FollowUp,
    FollowUpState,
    Handoff,
    Outcome,
    Team,
)
from handoff.store.office_hours import OfficeHours
from tests.bot.rasa_stub import RasaStub
from tests.moments import TUESDAY_MORNING

HOURS = OfficeHours.from_settings({day: "09:00-17:00" for day in ("monday", "tuesday", "wednesday", "thursday")})
ANSWER_WITH_STEP = "huurtoeslag"


class ScriptedAssistant(RasaStub):
    """Answers "huurtoeslag" with a next step and its own question with buttons, "nee" with
    a plain line (intent deny), anything else with a plain line (intent other)."""

    def __init__(self) -> None:
        self.heard: list[str] = []

    async def send(self, sender: str, text: str, metadata: Any = None, *, message_id: str | None = None) -> BotReply:
        self.heard.append(text)
        if text == ANSWER_WITH_STEP:
            return BotReply(
                texts=[
                    {"text": "Vraag huurtoeslag aan op toeslagen.nl."},
                    {"text": "Speelt er nog meer?", "buttons": [{"title": "Nee, dank je", "payload": "/deny"}]},
                ],
                parse={"intent": "ask_huurtoeslag", "confidence": 0.95},
                next_step=True,
            )
        intent = "deny" if text in ("nee", "/deny") else "other"
        return BotReply(texts=[{"text": "Goed."}], parse={"intent": intent, "confidence": 0.95})


class Desk:
    def __init__(self, database_url: str) -> None:
        upgrade(database_url)
        self.engine = create_engine(database_url)
        self.sessions = session_factory(self.engine)
        self.assistant = ScriptedAssistant()
        self.loop = asyncio.new_event_loop()
        self.router = Dispatcher(
            self.sessions, self.assistant, HOURS, EventBus(), clock=lambda: TUESDAY_MORNING, patience_s=5.0
        )
        self.counter = 0

    def say(self, text: str, who: str = "123") -> InboundResult:
        self.counter += 1
        inbound = Inbound(Channel.telegram, who, text, dedupe_key=f"telegram:update:{self.counter}")
        return self.loop.run_until_complete(self.router.inbound(inbound))

    def followup(self) -> FollowUp:
        with self.sessions() as session:
            return session.scalars(select(FollowUp)).one()

    def deliver(self) -> None:
        with self.sessions.begin() as session:
            row = session.get(FollowUp, self.followup().id)
            assert row is not None
            row.due_at = TUESDAY_MORNING.astimezone(dt.timezone.utc)  # SQLite keeps UTC text
        with self.sessions.begin() as session:
            assert followups.deliver_due(session, TUESDAY_MORNING)


@pytest.fixture
def desk(database_url: str) -> Iterator[Desk]:
    harness = Desk(database_url)
    yield harness
    harness.loop.close()
    harness.engine.dispose()


def offered(desk: Desk) -> FollowUp:
    first = desk.say(ANSWER_WITH_STEP)
    assert all(r.text != followups.OFFER for r in first.replies), "not on top of the assistant's own question"
    calm = desk.say("nee")
    assert calm.replies[-1].text == followups.OFFER
    assert [b["title"] for b in calm.replies[-1].buttons or []] == ["Ja, vraag het me over een week", "Nee, dank je"]
    return desk.followup()


def test_the_offer_comes_after_a_next_step_at_a_calm_moment_and_only_once(desk: Desk) -> None:
    followup = offered(desk)
    assert followup.state is FollowUpState.offered and followup.due_at is None
    assert all(r.text != followups.OFFER for r in desk.say("nee").replies)  # asked once per conversation


def test_no_offer_without_a_next_step(desk: Desk) -> None:
    desk.say("iets anders")
    assert all(r.text != followups.OFFER for r in desk.say("nee").replies)


def test_the_buttons_are_answered_by_the_desk_not_the_assistant(desk: Desk) -> None:
    followup = offered(desk)
    heard = list(desk.assistant.heard)
    result = desk.say(followups.payload("ja", followup.id))
    assert desk.assistant.heard == heard
    assert "Over een week stuur ik je hier een bericht" in result.replies[0].text
    assert desk.followup().state is FollowUpState.scheduled
    # a redelivered Telegram update is not answered twice
    inbound = Inbound(Channel.telegram, "123", followups.payload("ja", followup.id), dedupe_key="telegram:update:3")
    again = desk.loop.run_until_complete(desk.router.inbound(inbound))
    assert again.duplicate and not again.replies


def test_gelukt_closes_the_loop(desk: Desk) -> None:
    followup = offered(desk)
    desk.say(followups.payload("ja", followup.id))
    desk.deliver()
    heard = list(desk.assistant.heard)
    result = desk.say(followups.payload("gelukt", followup.id))
    assert result.replies[0].text == followups.DONE and desk.assistant.heard == heard
    done = desk.followup()
    assert (done.state, done.outcome) == (FollowUpState.answered, "gelukt")
    with desk.sessions() as session:
        assert session.scalar(select(Handoff.id)) is None


def test_het_lukt_niet_goes_back_to_the_same_teams_queue_with_the_earlier_summary(desk: Desk) -> None:
    with desk.sessions.begin() as session:
        wijkteam, schuldhulp = Team(name="Wijkteam", fallback=True), Team(name="Schuldhulp")
        session.add_all([wijkteam, schuldhulp])
        session.flush()
        team_id = schuldhulp.id
    desk.say("ik wil een medewerker")
    with desk.sessions.begin() as session:  # a worker helped, in the Schuldhulp team, and closed it
        conversation = session.scalars(select(Conversation)).one()
        handoff = convs.queue(session, conversation, reason="request_human", summary="Vraag over huurschuld.")
        conversation.team_id = team_id
        handoff.domains = ["financien"]
        followup = followups.offer(session, conversation, "closed")
        assert followup is not None
        followup_id, origin_id = followup.id, conversation.id
        convs.close(session, conversation, None, Outcome.referred)
    desk.say(followups.payload("ja", followup_id))
    desk.deliver()
    result = desk.say(followups.payload("lukt_niet", followup_id))
    assert result.status is ConversationStatus.queued
    assert any("Schuldhulp" in r.text for r in result.replies), [r.text for r in result.replies]
    with desk.sessions() as session:
        again = session.get(Conversation, result.conversation_id)
        assert again is not None and again.id != origin_id and again.team_id == team_id
        handoff = session.scalars(select(Handoff).where(Handoff.conversation_id == again.id)).one()
        assert handoff.reason == "followup" and handoff.domains == ["financien"]
        assert f"eerder gesprek nr. {origin_id}" in handoff.summary and "Vraag over huurschuld." in handoff.summary
    assert desk.followup().outcome == "lukt_niet"


def test_typed_text_after_a_check_in_is_a_normal_message(desk: Desk) -> None:
    followup = offered(desk)
    desk.say(followups.payload("ja", followup.id))
    desk.deliver()
    desk.say("het ging wel, maar ik heb een nieuwe vraag")
    assert desk.assistant.heard[-1] == "het ging wel, maar ik heb een nieuwe vraag"
    assert desk.followup().state is FollowUpState.sent  # the buttons still work later


def test_telegram_stop_cancels_the_check_in(desk: Desk) -> None:
    followup = offered(desk)
    desk.say(followups.payload("ja", followup.id))
    desk.loop.run_until_complete(desk.router.stop(Channel.telegram, "123"))
    assert desk.followup().state is FollowUpState.cancelled
    with desk.sessions.begin() as session:
        assert followups.deliver_due(session, TUESDAY_MORNING.replace(year=2027)) == []
