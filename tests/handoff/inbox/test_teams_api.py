"""Teams in the inbox (issue 15), through the real app on SQLite and PostgreSQL: the queue per
team with every crisis on top and the worker's own teams first, the other teams still
there; transfer to a team or a colleague with a note, only with the claim, once."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from desk.app import create_app
from handoff import auth
from handoff.config import DeskSettings
from handoff.store import conversations as convs
from handoff.store import teams
from handoff.store.db import create_engine, session_factory
from handoff.store.models import AuditLog, Author, Channel, Handoff, Message, Role, Team, Urgency
from tests.handoff.inbox.test_api import PASSWORD, as_worker, login
from tests.rasa_stub import StubRasa

Desk = tuple[TestClient, str, dict[str, int], list[dict[str, Any]]]


@pytest.fixture
def desk(database_url: str, tmp_path: Path, stub_rasa: StubRasa) -> Iterator[Desk]:
    """anna in the Wijkteam (the fallback), bram in Schuldhulp (financien), carla an admin in
    neither; the bus's events are recorded."""
    settings = DeskSettings(database_url=database_url, secret_key_file=str(tmp_path / "secret"))
    with TestClient(create_app(settings, rasa_client=stub_rasa.client)) as client:
        engine = create_engine(database_url)
        with session_factory(engine).begin() as session:
            anna = auth.create_worker(session, "anna", PASSWORD)
            bram = auth.create_worker(session, "bram", PASSWORD)
            auth.create_worker(session, "carla", PASSWORD, Role.admin)
            wijk, schuld = Team(name="Wijkteam", fallback=True), Team(name="Schuldhulp", domains=["financien"])
            session.add_all([wijk, schuld])
            session.flush()
            teams.set_members(session, wijk, [anna.id])
            teams.set_members(session, schuld, [bram.id])
            ids = {"wijk": wijk.id, "schuld": schuld.id, "anna": anna.id, "bram": bram.id}
        engine.dispose()
        events: list[dict[str, Any]] = []
        bus = client.app.state.desk.bus
        publish = bus.publish

        def recorded(event: dict[str, Any]) -> None:
            events.append(event)
            publish(event)

        bus.publish = recorded
        yield client, database_url, ids, events


def queue(url: str, who: str, domains: list[str], urgency: Urgency = Urgency.normal, minutes_ago: int = 0) -> int:
    engine = create_engine(url)
    with session_factory(engine).begin() as session:
        conversation = convs.active_conversation(session, convs.citizen_for(session, Channel.widget, who))
        convs.record_message(session, conversation, Author.citizen, "ik wil een medewerker")
        handoff = convs.queue(session, conversation, reason="request_human", urgency=urgency, domains=domains)
        handoff.queued_at = handoff.queued_at - dt.timedelta(minutes=minutes_ago)
        conversation_id = conversation.id
    engine.dispose()
    return conversation_id


def rows(url: str, model: Any, *where: Any) -> list[Any]:
    engine = create_engine(url)
    with session_factory(engine)() as session:
        found = list(session.scalars(select(model).where(*where).order_by(model.id)))
    engine.dispose()
    return found


def test_the_queue_comes_per_team_crisis_first_then_mine_then_the_others(desk: Desk) -> None:
    client, url, ids, _ = desk
    money = queue(url, "1", ["financien"], minutes_ago=30)
    house = queue(url, "2", ["huisvesting"], minutes_ago=10)
    crisis = queue(url, "3", ["financien"], Urgency.crisis)
    anna, bram = login(client, "anna"), login(client, "bram")

    for_anna = as_worker(client, anna, "GET", "/api/inbox").json()
    assert [i["conversation_id"] for i in for_anna["waiting"]] == [crisis, house, money]
    assert [(i["team_name"], i["my_team"]) for i in for_anna["waiting"]] == [
        ("Schuldhulp", False),  # every crisis on top, whose team it is
        ("Wijkteam", True),
        ("Schuldhulp", False),  # help elsewhere: still in the list
    ]
    assert [(t["name"], t["mine"], t["waiting"]) for t in for_anna["teams"]] == [
        ("Wijkteam", True, 1),
        ("Schuldhulp", False, 2),
    ]
    for_bram = as_worker(client, bram, "GET", "/api/inbox").json()
    assert [i["conversation_id"] for i in for_bram["waiting"]] == [crisis, money, house]
    # a team switched off while conversations wait for it stays listed until they are taken
    engine = create_engine(url)
    with session_factory(engine).begin() as session:
        team = session.get(Team, ids["wijk"])
        assert team is not None
        team.active = False
    engine.dispose()
    tabs = as_worker(client, anna, "GET", "/api/inbox").json()["teams"]
    assert [(t["name"], t["active"]) for t in tabs] == [("Wijkteam", False), ("Schuldhulp", True)]
    # anna helps elsewhere: she can claim Schuldhulp's conversation
    assert as_worker(client, anna, "POST", f"/api/inbox/conversations/{money}/claim").status_code == 200


def test_transfer_to_a_team_with_a_note_requeues_it_for_that_team(desk: Desk) -> None:
    client, url, ids, events = desk
    house = queue(url, "1", ["huisvesting"])
    anna, bram = login(client, "anna"), login(client, "bram")
    path = f"/api/inbox/conversations/{house}"
    assert as_worker(client, anna, "POST", f"{path}/claim").status_code == 200
    body = {"to_team_id": ids["schuld"], "note": "Huurachterstand van 3 maanden, wil een regeling."}
    assert as_worker(client, anna, "POST", f"{path}/transfer", json=body).status_code == 204
    second = as_worker(client, anna, "POST", f"{path}/transfer", json=body)  # the double click
    assert second.status_code == 409 and "bij jou" in second.json()["detail"]

    item = as_worker(client, bram, "GET", "/api/inbox").json()["waiting"][0]
    assert (item["conversation_id"], item["team_name"], item["my_team"]) == (house, "Schuldhulp", True)
    assert item["note"] == body["note"]
    summary = as_worker(client, bram, "GET", path).json()
    assert summary["access"] == "queue" and summary["note"] == body["note"] and summary["messages"] == []
    assert [a.detail for a in rows(url, AuditLog, AuditLog.action == "transfer_team")] == [
        {"team": ids["schuld"], "note": True}
    ]
    messages = rows(url, Message, Message.conversation_id == house)
    assert any(m.internal and body["note"] in m.text for m in messages)
    told = [m.text for m in messages if m.author is Author.system][-1]
    assert told.startswith("Je gesprek gaat naar Schuldhulp. Je hoeft je verhaal niet opnieuw te vertellen.")
    assert "Je bent de volgende in de rij." in told
    assert {"type": "transferred", "team_id": ids["schuld"]}.items() <= events[-2].items()
    assert as_worker(client, bram, "POST", f"{path}/claim").status_code == 200


def test_transfer_to_a_colleague_with_a_note(desk: Desk) -> None:
    client, url, ids, events = desk
    money = queue(url, "1", ["financien"])
    anna, bram = login(client, "anna"), login(client, "bram")
    path = f"/api/inbox/conversations/{money}"
    as_worker(client, anna, "POST", f"{path}/claim")
    body = {"to_worker_id": ids["bram"], "note": "Belt morgen om 10 uur terug."}
    assert as_worker(client, anna, "POST", f"{path}/transfer", json=body).status_code == 204
    assert as_worker(client, anna, "POST", f"{path}/transfer", json=body).status_code == 409
    mine = as_worker(client, bram, "GET", "/api/inbox").json()["mine"]
    assert [(i["conversation_id"], i["note"]) for i in mine] == [(money, body["note"])]
    transcript = as_worker(client, bram, "GET", path).json()
    assert transcript["access"] == "own" and transcript["note"] == body["note"]
    assert any(m["internal"] and body["note"] in m["text"] for m in transcript["messages"])
    assert transcript["messages"][-1]["text"].startswith("Je gesprek gaat nu naar bram (medewerker).")
    assert {"type": "transferred", "conversation_id": money, "worker_id": ids["bram"]}.items() <= events[-1].items()
    stored = rows(url, Handoff, Handoff.conversation_id == money)[0]
    assert stored.worker_id == ids["bram"]


def test_transfer_needs_the_claim_and_one_target(desk: Desk) -> None:
    client, url, ids, _ = desk
    money = queue(url, "1", ["financien"])
    anna, bram = login(client, "anna"), login(client, "bram")
    path = f"/api/inbox/conversations/{money}/transfer"
    waiting = as_worker(client, anna, "POST", path, json={"to_team_id": ids["wijk"]})
    assert waiting.status_code == 409 and "Pak het eerst op" in waiting.json()["detail"]
    as_worker(client, bram, "POST", f"/api/inbox/conversations/{money}/claim")
    # anna has not claimed it: a colleague's conversation is not hers to transfer
    assert as_worker(client, anna, "POST", path, json={"to_team_id": ids["wijk"]}).status_code == 409
    both = as_worker(client, bram, "POST", path, json={"to_team_id": ids["wijk"], "to_worker_id": ids["anna"]})
    assert both.status_code == 422 and "één van beide" in both.json()["problems"][0]["problem"]
    assert as_worker(client, bram, "POST", path, json={"note": "x"}).status_code == 422
    assert as_worker(client, bram, "POST", path, json={"to_team_id": 999}).status_code == 404
    assert as_worker(client, bram, "POST", path, json={"to_worker_id": ids["bram"]}).status_code == 409
    engine = create_engine(url)
    with session_factory(engine).begin() as session:
        team = session.get(Team, ids["wijk"])
        assert team is not None
        team.active = False
    engine.dispose()
    gone = as_worker(client, bram, "POST", path, json={"to_team_id": ids["wijk"]})
    assert gone.status_code == 404 and "niet actief" in gone.json()["detail"]
    assert rows(url, AuditLog, AuditLog.action.in_(["transfer", "transfer_team"])) == []
