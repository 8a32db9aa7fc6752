"""Teams and routing (issue 15): the pure routing rules, and routing, the team queue order,
transfers and the citizen's line in the store, on SQLite and PostgreSQL."""

from __future__ import annotations

import contextlib
import datetime as dt
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from baken_core.gemeente import gemeente
from desk.cli import ensure_demo
from handoff.admin.teams_api import NewTeam
from handoff.store import conversations as convs
from handoff.store import queue_info, teams
from handoff.store.db import create_engine
from handoff.store.migrate import upgrade
from handoff.store.models import (
    AuditLog,
    Channel,
    Conversation,
    ConversationStatus,
    Presence,
    Team,
    Urgency,
    Worker,
)
from handoff.store.office_hours import OfficeHours
from handoff.store.teams import TeamSpec, route
from tests.databases import sqlite_url, temporary_postgres_database

AMS = ZoneInfo("Europe/Amsterdam")
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday")
OFFICE = OfficeHours.from_settings({day: "09:00-17:00" for day in WEEKDAYS})
EVENINGS = OfficeHours.from_settings({day: "13:00-21:00" for day in WEEKDAYS})
THURSDAYS = OfficeHours.from_settings({"thursday": "09:00-17:00"})
TUESDAY_10 = dt.datetime(2026, 12, 1, 10, 0, tzinfo=AMS)
FRIDAY_18 = dt.datetime(2026, 12, 4, 18, 0, tzinfo=AMS)

WIJKTEAM = TeamSpec(1, "Wijkteam", fallback=True, hours=OFFICE)
SCHULDHULP = TeamSpec(2, "Schuldhulp", domains=frozenset({"financien"}), hours=OFFICE)
JONGEREN = TeamSpec(
    3,
    "Jongerenwerk",
    domains=frozenset({"werk_opleiding", "sociaal_netwerk"}),
    sources=frozenset({"widget:jongerenwerk"}),
    hours=EVENINGS,
)
WONEN = TeamSpec(4, "Wonen", domains=frozenset({"huisvesting", "financien"}), hours=OFFICE)
TEAMS = [WIJKTEAM, SCHULDHULP, JONGEREN]


# --------------------------------------------------------------------------- pure rules


def test_a_handoff_goes_to_the_team_that_takes_its_domain() -> None:
    assert route(TEAMS, ["financien"], "normal", "telegram", None, TUESDAY_10).team_id == SCHULDHULP.id
    assert route(TEAMS, ["huisvesting"], "normal", "telegram", None, TUESDAY_10).team_id == WIJKTEAM.id


def test_the_most_domains_win_then_the_main_domain_then_the_specialist() -> None:
    both = [WIJKTEAM, SCHULDHULP, WONEN]
    # Wonen takes both domains, Schuldhulp one: most domains wins
    assert route(both, ["huisvesting", "financien"], "normal", "telegram", None, TUESDAY_10).team_id == WONEN.id
    # one domain each: the team with the main (first) domain
    wonen_only = TeamSpec(5, "Wonen", domains=frozenset({"huisvesting"}), hours=OFFICE)
    pair = [WIJKTEAM, SCHULDHULP, wonen_only]
    assert route(pair, ["huisvesting", "financien"], "normal", "telegram", None, TUESDAY_10).team_id == 5
    assert route(pair, ["financien", "huisvesting"], "normal", "telegram", None, TUESDAY_10).team_id == 2
    # both take the main domain: the most specialised (fewest domains) wins
    assert route(both, ["financien"], "normal", "telegram", None, TUESDAY_10).team_id == SCHULDHULP.id


def test_urgencies_and_sources_limit_what_a_team_takes() -> None:
    spoed = TeamSpec(6, "Spoed", urgencies=frozenset({"urgent", "crisis"}), domains=frozenset({"financien"}))
    teams_ = [WIJKTEAM, spoed]
    assert route(teams_, ["financien"], "urgent", "telegram", None, TUESDAY_10).team_id == spoed.id
    assert route(teams_, ["financien"], "normal", "telegram", None, TUESDAY_10).team_id == WIJKTEAM.id
    evening = dt.datetime(2026, 12, 1, 14, 0, tzinfo=AMS)
    on_their_site = route(TEAMS, ["werk_opleiding"], "normal", "widget", "jongerenwerk", evening)
    assert on_their_site.team_id == JONGEREN.id
    elsewhere = route(TEAMS, ["werk_opleiding"], "normal", "widget", "huisarts", evening)
    assert elsewhere.team_id == WIJKTEAM.id  # a team without domains takes any domain


def test_nothing_fits_goes_to_the_fallback_or_the_shared_queue() -> None:
    assert route(TEAMS, [], "normal", "telegram", None, TUESDAY_10).team_id == WIJKTEAM.id
    housing_first = TeamSpec(1, "Wijkteam", domains=frozenset({"huisvesting"}), fallback=True)
    routed = route([housing_first, SCHULDHULP], ["justitie"], "normal", "telegram", None, TUESDAY_10)
    assert (routed.team_id, routed.why) == (1, "fallback_nothing_fits")
    assert route([SCHULDHULP], ["justitie"], "normal", "telegram", None, TUESDAY_10).team_id is None
    inactive = TeamSpec(1, "Wijkteam", fallback=True, active=False)
    assert route([inactive, SCHULDHULP], ["justitie"], "normal", "telegram", None, TUESDAY_10).team_id is None


def test_a_team_with_nobody_online_keeps_a_normal_question_but_not_an_urgent_one() -> None:
    empty = TeamSpec(2, "Schuldhulp", domains=frozenset({"financien"}), hours=OFFICE, online=False)
    teams_ = [WIJKTEAM, empty]
    normal = route(teams_, ["financien"], "normal", "telegram", None, TUESDAY_10)
    assert normal.team_id == empty.id  # colleagues of other teams can still help
    urgent = route(teams_, ["financien"], "urgent", "telegram", None, TUESDAY_10)
    assert (urgent.team_id, urgent.why) == (WIJKTEAM.id, "fallback_not_there")
    nobody = [TeamSpec(1, "Wijkteam", fallback=True, hours=OFFICE, online=False), empty]
    assert route(nobody, ["financien"], "urgent", "telegram", None, TUESDAY_10).team_id == empty.id


def test_a_crisis_is_routed_for_follow_up_and_does_not_wait_for_an_absent_team() -> None:
    assert route(TEAMS, ["financien"], "crisis", "telegram", None, TUESDAY_10).team_id == SCHULDHULP.id
    empty = TeamSpec(2, "Schuldhulp", domains=frozenset({"financien"}), hours=OFFICE, online=False)
    assert route([WIJKTEAM, empty], ["financien"], "crisis", "telegram", None, TUESDAY_10).team_id == WIJKTEAM.id


def test_a_normal_question_does_not_wait_days_longer_for_a_closed_team() -> None:
    thursdays = TeamSpec(2, "Schuldhulp", domains=frozenset({"financien"}), hours=THURSDAYS)
    # Friday evening: the wijkteam opens Monday, the Thursday team six days later than that
    routed = route([WIJKTEAM, thursdays], ["financien"], "normal", "telegram", None, FRIDAY_18)
    assert (routed.team_id, routed.why) == (WIJKTEAM.id, "fallback_closed_long")
    # Wednesday evening: it opens the next morning, like the wijkteam
    wednesday = dt.datetime(2026, 12, 2, 18, 0, tzinfo=AMS)
    assert route([WIJKTEAM, thursdays], ["financien"], "normal", "telegram", None, wednesday).team_id == 2


# --------------------------------------------------------------------------- in the store


def make_worker(session: Session, name: str, online: bool = True) -> Worker:
    worker = Worker(name=name, password_hash="x", presence=Presence.online if online else Presence.away)
    session.add(worker)
    session.flush()
    return worker


def make_team(session: Session, name: str, members: list[Worker], **values: object) -> Team:
    team = Team(name=name, **values)
    session.add(team)
    session.flush()
    teams.set_members(session, team, [w.id for w in members])
    return team


def queued(
    session: Session, who: str, domains: list[str], urgency: Urgency = Urgency.normal, now: dt.datetime = TUESDAY_10
) -> Conversation:
    conversation = convs.active_conversation(session, convs.citizen_for(session, Channel.telegram, who))
    convs.queue(session, conversation, reason="request_human", urgency=urgency, domains=domains, hours=OFFICE, now=now)
    return conversation


def test_queueing_routes_and_audits_the_team(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        anna, bram = make_worker(session, "anna"), make_worker(session, "bram", online=False)
        wijk = make_team(session, "Wijkteam", [anna], fallback=True)
        schuld = make_team(session, "Schuldhulp", [bram], domains=["financien"])
        money = queued(session, "1", ["financien"])
        house = queued(session, "2", ["huisvesting"])
        urgent = queued(session, "3", ["financien"], Urgency.urgent)  # nobody of Schuldhulp online
        crisis = queued(session, "4", ["financien"], Urgency.crisis)
        assert (money.team_id, house.team_id, urgent.team_id) == (schuld.id, wijk.id, wijk.id)
        assert crisis.team_id == wijk.id  # Schuldhulp is not there: the wijkteam follows it up
        details = session.scalars(select(AuditLog.detail).where(AuditLog.action == "queue").order_by(AuditLog.id))
        assert [d["route"] for d in details if d] == ["fits", "fits", "fallback_not_there", "fallback_not_there"]
        # and it waits for nobody: first in line for bram (Schuldhulp) and for a worker in no team
        assert convs.waiting(session, teams.team_ids_of(session, bram.id))[0].conversation_id == crisis.id
        assert convs.waiting(session)[0].conversation_id == crisis.id


def test_without_teams_there_is_one_shared_queue_as_before(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        conversation = queued(session, "1", ["financien"])
        assert conversation.team_id is None
        assert queue_info.position(session, conversation.id) == 1


def test_a_worker_sees_every_crisis_first_then_their_teams_then_the_rest(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        anna, bram = make_worker(session, "anna"), make_worker(session, "bram")
        wijk = make_team(session, "Wijkteam", [anna], fallback=True)
        schuld = make_team(session, "Schuldhulp", [bram], domains=["financien"])
        early = TUESDAY_10 - dt.timedelta(hours=1)
        wijk_urgent = queued(session, "1", ["huisvesting"], Urgency.urgent, now=early)
        schuld_normal = queued(session, "2", ["financien"], now=early)
        wijk_normal = queued(session, "3", ["huisvesting"])
        crisis = queued(session, "4", ["financien"], Urgency.crisis)  # Schuldhulp's, last in
        assert crisis.team_id == schuld.id
        for handoff in session.scalars(select(convs.Handoff)):
            handoff.queued_at = {
                wijk_urgent.id: early,
                schuld_normal.id: early,
                wijk_normal.id: TUESDAY_10,
                crisis.id: TUESDAY_10 + dt.timedelta(minutes=5),
            }[handoff.conversation_id]
        session.flush()
        for_anna = [h.conversation_id for h in convs.waiting(session, teams.team_ids_of(session, anna.id))]
        assert for_anna == [crisis.id, wijk_urgent.id, wijk_normal.id, schuld_normal.id]
        for_bram = [h.conversation_id for h in convs.waiting(session, teams.team_ids_of(session, bram.id))]
        assert for_bram == [crisis.id, schuld_normal.id, wijk_urgent.id, wijk_normal.id]
        assert wijk.id in teams.team_ids_of(session, anna.id)
        # the next chat for bram: the crisis, then his own team's
        first = convs.claim_next(session, bram, teams.team_ids_of(session, bram.id))
        assert first is not None and first.conversation_id == crisis.id
        second = convs.claim_next(session, bram, [schuld.id])
        assert second is not None and second.conversation_id == schuld_normal.id


def test_transfer_to_a_team_requeues_with_the_note_and_keeps_the_place(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        anna = make_worker(session, "anna")
        make_team(session, "Wijkteam", [anna], fallback=True)
        schuld = make_team(session, "Schuldhulp", [], domains=["financien"])
        conversation = queued(session, "1", ["huisvesting"])
        handoff = convs.claim(session, conversation.id, anna)
        queued_at = handoff.queued_at
        convs.transfer_to_team(session, conversation, anna, schuld, "Huurachterstand, wil een regeling.")
        assert conversation.status is ConversationStatus.queued and conversation.worker_id is None
        assert conversation.team_id == schuld.id
        requeued = convs.open_handoff(session, conversation)
        assert requeued is not None and requeued.note == "Huurachterstand, wil een regeling."
        assert requeued.queued_at == queued_at and requeued.claimed_at is None
        # the second click of a double click: it is not with anna any more
        with pytest.raises(convs.IllegalTransition):
            convs.transfer_to_team(session, conversation, anna, schuld, "nog eens")
        actions = session.scalars(select(AuditLog.action).order_by(AuditLog.id)).all()
        assert actions[-1] == "transfer_team"


def test_transfer_to_a_colleague_carries_the_note_and_one_click_wins(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        anna, bram, cor = make_worker(session, "anna"), make_worker(session, "bram"), make_worker(session, "cor")
        conversation = queued(session, "1", ["financien"])
        convs.claim(session, conversation.id, anna)
        convs.transfer(session, conversation, anna, bram, "Belt morgen terug.")
        handoff = convs.open_handoff(session, conversation)
        assert conversation.worker_id == bram.id
        assert handoff is not None and handoff.note == "Belt morgen terug." and handoff.worker_id == bram.id
        with pytest.raises(convs.IllegalTransition):  # anna's second click
            convs.transfer(session, conversation, anna, cor, "")
    conversation_id = conversation.id
    with sessions.begin() as session:
        conversation_ = session.get(Conversation, conversation_id)
        assert conversation_ is not None
        bram_, cor_ = session.get(Worker, bram.id), session.get(Worker, cor.id)
        assert bram_ is not None and cor_ is not None
        # bram's other tab gave it to anna a moment ago; this tab still shows it as his
        session.execute(
            update(Conversation)
            .where(Conversation.id == conversation_id)
            .values(worker_id=anna.id)
            .execution_options(synchronize_session=False)
        )
        assert conversation_.worker_id == bram.id  # stale in this tab
        with pytest.raises(convs.IllegalTransition):
            convs.transfer(session, conversation_, bram_, cor_, "")
        with pytest.raises(convs.IllegalTransition):
            convs.transfer_to_team(session, conversation_, bram_, Team(id=999, name="x"), "")


def test_the_citizen_hears_the_team_its_place_and_its_hours(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        anna = make_worker(session, "anna")
        make_team(session, "Wijkteam", [anna], fallback=True)
        make_team(
            session,
            "Jongerenwerk",
            [anna],
            domains=["werk_opleiding"],
            hours={day: "13:00-21:00" for day in WEEKDAYS},
        )
        queued(session, "0", ["huisvesting"])  # the wijkteam's: not in the Jongerenwerk's line
        ahead = queued(session, "1", ["werk_opleiding"])
        ours = queued(session, "2", ["werk_opleiding"])
        assert ahead.team_id == ours.team_id
        text = queue_info.describe(session, ours.id, OFFICE, TUESDAY_10)
        assert text == (
            "Je vraag ligt bij Jongerenwerk. Je bent nummer 2 in de rij. "
            "De medewerkers van Jongerenwerk zijn er weer vandaag om 13.00 uur."
        )
        later = queue_info.describe(session, ours.id, OFFICE, TUESDAY_10 + dt.timedelta(hours=4))
        assert later is not None and later.startswith("Je vraag ligt bij Jongerenwerk. Je bent nummer 2 in de rij.")
        assert "zijn er weer" not in later


def test_default_teams_are_added_once(sessions: sessionmaker[Session]) -> None:
    defaults: list[dict[str, Any]] = [
        {"name": "Wijkteam", "fallback": True},
        {"name": "Schuldhulp", "domains": ["financien"], "hours": {"monday": "09:00-12:00"}},
    ]
    with sessions.begin() as session:
        demo = make_worker(session, "demo")
        assert teams.ensure_defaults(session, defaults, [demo]) == 2
        assert teams.ensure_defaults(session, defaults, [demo]) == 0
        assert len(teams.team_ids_of(session, demo.id)) == 2
        schuld = session.scalar(select(Team).where(Team.name == "Schuldhulp"))
        assert schuld is not None and teams.team_hours(schuld, OFFICE).week[0] == ((dt.time(9), dt.time(12)),)


def test_ensure_demo_adds_the_default_teams_of_gemeente_voorbeeld_once(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    """The fictional defaults in data/gemeente.yml pass the admin's own checks, and the demo
    worker is in every team; a second run (or a desk with teams) adds nothing."""
    login = tmp_path / "demo-login.txt"
    assert ensure_demo(sessions, login) == 0
    assert ensure_demo(sessions, login) == 0
    defaults = gemeente()["default_teams"]
    with sessions() as session:
        stored = list(session.scalars(select(Team).order_by(Team.id)))
        demo = session.scalar(select(Worker).where(Worker.name == "demo"))
        assert demo is not None
        assert [t.name for t in stored] == [d["name"] for d in defaults] == ["Wijkteam", "Schuldhulp", "Jongerenwerk"]
        assert [t.fallback for t in stored] == [True, False, False]
        assert set(teams.team_ids_of(session, demo.id)) == {t.id for t in stored}
        for team in stored:
            NewTeam.model_validate(
                {
                    "name": team.name,
                    "description": team.description,
                    "hours": team.hours,
                    "domains": team.domains,
                    "urgencies": team.urgencies,
                    "sources": team.sources,
                }
            )
        youth = stored[2]
        assert teams.team_hours(youth, OFFICE).week[0] == ((dt.time(13), dt.time(21)),)
        routed = route(teams.specs(session, OFFICE), ["werk_opleiding"], "normal", "widget", "jongerenwerk", TUESDAY_10)
        assert routed.team_id == youth.id  # closed at 10.00, but open the same day: it waits for them


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_the_teams_migration_keeps_a_desk_with_conversations_working(database: str, tmp_path: Path) -> None:
    """0009 on a database that has conversations and messages (on SQLite a batch migration
    would copy and drop the conversations table, which the messages' foreign keys forbid)."""
    with contextlib.ExitStack() as stack:
        url = sqlite_url(tmp_path) if database == "sqlite" else stack.enter_context(temporary_postgres_database())
        upgrade(url, "0008")
        engine = create_engine(url)
        stack.callback(engine.dispose)
        with engine.begin() as conn:
            conn.execute(
                text("INSERT INTO citizens (id, channel, external_id, created_at) VALUES (1, 'widget', 'v', :at)"),
                {"at": TUESDAY_10},
            )
            conn.execute(
                text(
                    "INSERT INTO conversations (id, citizen_id, channel, status, rasa_sender_id, created_at,"
                    " updated_at) VALUES (1, 1, 'widget', 'queued', 's', :at, :at)"
                ),
                {"at": TUESDAY_10},
            )
            conn.execute(
                text(
                    "INSERT INTO messages (conversation_id, author, text, internal, created_at, attempts, crisis,"
                    " delivery_attempts, parts_sent) VALUES (1, 'citizen', 'hoi', false, :at, 0, false, 0, 0)"
                ),
                {"at": TUESDAY_10},
            )
        upgrade(url, "0009")
        with engine.begin() as conn:
            assert conn.execute(text("SELECT count(*) FROM messages")).scalar() == 1
            assert conn.execute(text("SELECT team_id FROM conversations")).scalar() is None
        with pytest.raises(IntegrityError), engine.begin() as conn:  # the foreign key holds
            conn.execute(text("UPDATE conversations SET team_id = 999"))
