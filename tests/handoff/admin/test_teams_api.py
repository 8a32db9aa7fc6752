"""The admin's teams (issue 15), through the real app on SQLite and PostgreSQL: create,
change, deactivate; hours, domains, urgencies, sources, the fallback team and members;
kind Dutch refusals; the next handoff already uses the change."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from desk.app import create_app
from handoff import auth
from handoff.config import DeskSettings
from handoff.store import conversations as convs
from handoff.store.db import create_engine, session_factory
from handoff.store.models import AuditLog, Channel, Role, Worker
from tests.handoff.inbox.test_api import PASSWORD, as_worker, login
from tests.rasa_stub import StubRasa

TEAMS = "/api/admin/teams"


@pytest.fixture
def desk(database_url: str, tmp_path: Path, stub_rasa: StubRasa) -> Iterator[tuple[TestClient, str]]:
    settings = DeskSettings(database_url=database_url, secret_key_file=str(tmp_path / "secret"))
    with TestClient(create_app(settings, rasa_client=stub_rasa.client)) as client:
        engine = create_engine(database_url)
        with session_factory(engine).begin() as session:
            auth.create_worker(session, "anna", PASSWORD)
            auth.create_worker(session, "carla", PASSWORD, Role.admin)
        engine.dispose()
        yield client, database_url


def worker_id(url: str, name: str) -> int:
    engine = create_engine(url)
    with session_factory(engine)() as session:
        found = session.scalar(select(Worker.id).where(Worker.name == name))
    engine.dispose()
    assert found is not None
    return found


def team_of_a_new_handoff(url: str, who: str, domains: list[str]) -> int | None:
    engine = create_engine(url)
    with session_factory(engine).begin() as session:
        conversation = convs.active_conversation(session, convs.citizen_for(session, Channel.telegram, who))
        convs.queue(session, conversation, reason="request_human", domains=domains)
        team_id = conversation.team_id
    engine.dispose()
    return team_id


def test_an_admin_creates_changes_and_deactivates_a_team(desk: tuple[TestClient, str]) -> None:
    client, url = desk
    carla = login(client, "carla")
    anna_id = worker_id(url, "anna")
    new = {
        "name": " Schuldhulp ",
        "description": "Schulden en rekeningen.",
        "hours": {"monday": "09:00-12:30, 13:30-17:00", "thursday": "09:00-17:00"},
        "domains": ["financien", "huisvesting", "financien"],
        "urgencies": ["urgent", "normal"],
        "sources": ["telegram", "widget:huisarts"],
        "member_ids": [anna_id],
    }
    created = as_worker(client, carla, "POST", TEAMS, json=new)
    assert created.status_code == 201, created.text
    team = created.json()
    assert team["name"] == "Schuldhulp" and team["domains"] == ["financien", "huisvesting"]
    assert team["hours"]["monday"] == "09:00-12:30, 13:30-17:00" and team["hours"]["sunday"] == ""
    assert team["member_ids"] == [anna_id] and team["active"] and not team["fallback"]
    assert team_of_a_new_handoff(url, "1", ["financien"]) == team["id"]

    wijk = as_worker(client, carla, "POST", TEAMS, json={"name": "Wijkteam", "fallback": True}).json()
    changed = as_worker(
        client, carla, "POST", f"{TEAMS}/{team['id']}", json={"hours": None, "member_ids": [], "domains": ["justitie"]}
    ).json()
    assert changed["hours"] is None and changed["member_ids"] == [] and changed["urgencies"] == ["urgent", "normal"]
    assert team_of_a_new_handoff(url, "2", ["financien"]) == wijk["id"]  # the change holds at once

    off = as_worker(client, carla, "POST", f"{TEAMS}/{team['id']}", json={"active": False}).json()
    assert off["active"] is False
    assert team_of_a_new_handoff(url, "3", ["justitie"]) == wijk["id"]
    listed = as_worker(client, carla, "GET", TEAMS).json()
    assert [(t["name"], t["active"]) for t in listed] == [("Schuldhulp", False), ("Wijkteam", True)]
    engine = create_engine(url)
    with session_factory(engine)() as session:
        audited = session.scalars(select(AuditLog.action).where(AuditLog.action.like("%_team"))).all()
    engine.dispose()
    assert audited == ["create_team", "create_team", "change_team", "change_team"]


def test_one_fallback_team_and_it_stays_active(desk: tuple[TestClient, str]) -> None:
    client, _ = desk
    carla = login(client, "carla")
    first = as_worker(client, carla, "POST", TEAMS, json={"name": "Wijkteam", "fallback": True}).json()
    second = as_worker(client, carla, "POST", TEAMS, json={"name": "Wijkteam Noord", "fallback": True}).json()
    listed = {t["name"]: t["fallback"] for t in as_worker(client, carla, "GET", TEAMS).json()}
    assert listed == {"Wijkteam": False, "Wijkteam Noord": True}
    refused = as_worker(client, carla, "POST", f"{TEAMS}/{second['id']}", json={"active": False})
    assert refused.status_code == 422 and "vangnet" in refused.json()["detail"]
    assert as_worker(client, carla, "POST", f"{TEAMS}/{first['id']}", json={"fallback": True}).status_code == 200
    assert as_worker(client, carla, "POST", f"{TEAMS}/{second['id']}", json={"active": False}).status_code == 200


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"name": "T", "domains": ["geld"]}, "onbekend levensgebied: geld"),
        ({"name": "T", "hours": {"tuesday": "17:00-09:00"}}, "de tijden voor dinsdag kloppen niet"),
        ({"name": "T", "hours": {"dinsdag": "09:00-17:00"}}, "gebruik de dagen monday"),
        ({"name": "T", "sources": ["email"]}, "onbekende bron: email; een bron is telegram, widget"),
        ({"name": "T", "urgencies": ["soms"]}, "onbekende urgentie: soms; kies uit crisis, urgent en normal"),
        ({"name": "   "}, "geef het team een naam"),
        ({"name": "T\u202e"}, "geef het team een naam"),
    ],
)
def test_a_wrong_team_is_refused_with_a_kind_reason(desk: tuple[TestClient, str], body: dict, says: str) -> None:
    client, _ = desk
    carla = login(client, "carla")
    response = as_worker(client, carla, "POST", TEAMS, json=body)
    assert response.status_code == 422, response.text
    assert any(says in p["problem"] for p in response.json()["problems"]), response.json()


def test_duplicates_unknown_members_and_workers_are_refused(desk: tuple[TestClient, str]) -> None:
    client, _ = desk
    carla, anna = login(client, "carla"), login(client, "anna")
    assert as_worker(client, carla, "POST", TEAMS, json={"name": "Wijkteam"}).status_code == 201
    twice = as_worker(client, carla, "POST", TEAMS, json={"name": "Wijkteam"})
    assert twice.status_code == 409 and "Er is al een team met de naam 'Wijkteam'" in twice.json()["detail"]
    nobody = as_worker(client, carla, "POST", TEAMS, json={"name": "Jongerenwerk", "member_ids": [9999]})
    assert nobody.status_code == 422 and "medewerkers bestaat niet" in nobody.json()["detail"]
    assert as_worker(client, carla, "POST", f"{TEAMS}/9999", json={"active": False}).status_code == 404
    assert as_worker(client, anna, "GET", TEAMS).status_code == 403
    assert as_worker(client, anna, "POST", TEAMS, json={"name": "Eigen team"}).status_code == 403
    choices = as_worker(client, carla, "GET", f"{TEAMS}/choices").json()
    assert len(choices["domains"]) == 13 and [c["value"] for c in choices["urgencies"]] == [
        "crisis",
        "urgent",
        "normal",
    ]
