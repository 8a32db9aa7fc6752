"""What the citizen hears when a team answers (issue 15): the team's name and when that team
is there, by its own hours; the crisis reply stays the same. On SQLite and PostgreSQL, with
the real Rasa server (see tests/bot/test_routing.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select

from baken_core.crisis import crisis_message, is_crisis_reply
from bot.routing.texts import TEAM_CLOSED
from handoff.store import teams
from handoff.store.models import Conversation, Presence, Team, Worker
from stack.processes import free_port
from tests.bot.test_routing import Harness, texts
from tests.moments import SATURDAY_NIGHT, TUESDAY_MORNING

EVENINGS = {day: "13:00-21:00" for day in ("monday", "tuesday", "wednesday", "thursday", "friday")}


def with_team(desk: Harness, name: str, hours: dict[str, str] | None = None) -> int:
    with desk.sessions.begin() as session:
        worker = Worker(name="anna", password_hash="x", presence=Presence.online)
        team = Team(name=name, fallback=True, hours=hours)
        session.add_all([worker, team])
        session.flush()
        teams.set_members(session, team, [worker.id])
        return team.id


@pytest.fixture
def evening_desk(database_url: str, rasa_url: str) -> Iterator[Harness]:
    harness = Harness(database_url, rasa_url, clock=lambda: TUESDAY_MORNING)
    yield harness
    harness.close()


def test_outside_its_hours_the_citizen_hears_the_team_and_when_it_is_back(evening_desk: Harness) -> None:
    team_id = with_team(evening_desk, "Jongerenwerk", EVENINGS)
    result = evening_desk.say("femke", "ik wil graag met een medewerker praten")
    # the office is open on Tuesday morning, but this team starts at 13.00
    expected = TEAM_CLOSED.format(team="Jongerenwerk", when="vandaag om 13.00 uur")
    assert expected in texts(result), texts(result)
    with evening_desk.sessions() as session:
        assert session.scalar(select(Conversation.team_id)) == team_id


def test_within_its_hours_the_citizen_hears_the_team_and_the_place_in_its_line(evening_desk: Harness) -> None:
    with_team(evening_desk, "Wijkteam")
    result = evening_desk.say("gert", "ik wil graag met een medewerker praten")
    assert "Je vraag ligt bij Wijkteam. Je bent de volgende in de rij." in texts(result), texts(result)


def test_the_crisis_reply_stays_the_same_with_teams(database_url: str) -> None:
    desk = Harness(database_url, f"http://127.0.0.1:{free_port()}", clock=lambda: SATURDAY_NIGHT)
    try:
        with_team(desk, "Wijkteam")
        result = desk.say("hans", "ik wil er niet meer zijn")
        assert is_crisis_reply(result.replies[0].text)
        assert result.replies[0].text == crisis_message(staffed=False, back="maandag om 9.00 uur")
        assert "Wijkteam" not in texts(result)
        with desk.sessions() as session:
            assert session.scalar(select(Conversation.team_id)) is not None  # routed, for the follow-up
    finally:
        desk.close()
