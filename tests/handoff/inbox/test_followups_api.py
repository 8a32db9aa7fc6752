"""Follow-up through the real app (issue 15): a worker offers a check-in, the citizen says yes
in the widget, the desk restarts, the new desk delivers it, the widget shows it when the
citizen comes back, and "het lukt niet" goes back to the team's queue; a worker's own
reminder appears in their inbox on its day. SQLite and PostgreSQL, a scripted assistant."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from desk.app import create_app
from handoff import auth
from handoff.config import DeskSettings
from handoff.store import conversations as convs
from handoff.store import followups
from handoff.store.db import create_engine, session_factory
from handoff.store.models import Conversation, FollowUp, FollowUpState, JobLease, Outcome, Team, utcnow
from tests.handoff.inbox.test_api import PASSWORD, as_worker, citizen_says, login
from tests.moments import TUESDAY_MORNING
from tests.rasa_stub import StubRasa


class Clock:
    """The follow-ups' clock (daytime, so quiet hours do not depend on when the tests run)."""

    def __init__(self) -> None:
        self.now = TUESDAY_MORNING.astimezone(dt.timezone.utc)

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    moment = Clock()
    monkeypatch.setattr(followups, "utcnow", moment)
    return moment


def desk_app(database_url: str, tmp_path: Path, stub_rasa: StubRasa) -> TestClient:
    settings = DeskSettings(database_url=database_url, secret_key_file=str(tmp_path / "secret"))
    return TestClient(create_app(settings, rasa_client=stub_rasa.client))


def history(client: TestClient, visitor: str) -> list[dict[str, Any]]:
    response = client.get("/api/widget/messages", headers={"X-Baken-Visitor": visitor})
    assert response.status_code == 200, response.text
    return list(response.json()["messages"])


def wait_for(check: Any, timeout: float = 20.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError("timed out")


def the_round_is_due_again(database_url: str) -> None:
    """A minute passes: the follow-up job's round is due again (handoff/store/job_leases.py)."""
    engine = create_engine(database_url)
    with session_factory(engine).begin() as session:
        session.execute(update(JobLease).where(JobLease.name == "follow-ups").values(due_at=utcnow()))
    engine.dispose()


def test_offered_by_a_worker_yes_in_the_widget_delivered_after_a_restart_and_back_to_the_team(
    database_url: str, tmp_path: Path, stub_rasa: StubRasa, clock: Clock
) -> None:
    visitor = uuid.uuid4().hex
    sessions = session_factory(create_engine(database_url))
    with sessions.begin() as session:
        auth.create_worker(session, "anna", PASSWORD)
        session.add(Team(name="Schuldhulp", fallback=True))
    with desk_app(database_url, tmp_path, stub_rasa) as client:
        citizen_says(client, visitor, "ik wil met een medewerker praten")
        anna = login(client, "anna")
        conversation_id = as_worker(client, anna, "GET", "/api/inbox").json()["waiting"][0]["conversation_id"]
        path = f"/api/inbox/conversations/{conversation_id}"
        assert as_worker(client, anna, "POST", f"{path}/followup-offer").status_code == 409  # not hers yet
        assert as_worker(client, anna, "POST", f"{path}/claim").status_code == 200
        assert as_worker(client, anna, "POST", f"{path}/followup-offer").status_code == 200
        again = as_worker(client, anna, "POST", f"{path}/followup-offer")
        assert again.status_code == 409 and "al" in again.json()["detail"]  # asked once

        offer = history(client, visitor)[-1]
        assert offer["text"] == followups.OFFER and offer["author"] == "system"
        with sessions() as session:
            assert session.scalars(select(FollowUp.state)).one() is FollowUpState.offered  # nothing without a yes
        said = citizen_says(client, visitor, offer["buttons"][0]["payload"])
        assert [m["text"] for m in said["messages"]][:1] == ["Ja, vraag het me over een week"]
        assert "Je ziet hem als je deze chat weer opent" in said["messages"][-1]["text"]
        assert all("vervolg" not in text for said_to_rasa in stub_rasa.heard.values() for text in said_to_rasa)
        with sessions.begin() as session:
            conversation = session.get(Conversation, conversation_id)
            assert conversation is not None
            convs.close(session, conversation, None, Outcome.resolved)

    # the desk was down; eight days later (at noon: not in quiet hours) it starts again
    later = (utcnow() + dt.timedelta(days=8)).astimezone(followups.ZONE).date()
    clock.now = dt.datetime.combine(later, dt.time(12, 0), tzinfo=followups.ZONE).astimezone(dt.timezone.utc)
    the_round_is_due_again(database_url)
    with desk_app(database_url, tmp_path, stub_rasa) as client:
        checkin = wait_for(lambda: [m for m in history(client, visitor) if m["text"] == followups.CHECKIN])
        assert [b["title"] for b in checkin[0]["buttons"]] == ["Gelukt", "Het lukt niet", "Stop met vragen"]
        said = citizen_says(client, visitor, checkin[0]["buttons"][1]["payload"])
        assert said["status"] == "queued"
        assert any("Schuldhulp" in m["text"] for m in said["messages"]), said["messages"]
        anna = login(client, "anna")
        waiting = as_worker(client, anna, "GET", "/api/inbox").json()["waiting"]
        assert [w["reason"] for w in waiting] == ["followup"]
        assert waiting[0]["team_name"] == "Schuldhulp" and "Vervolgvraag" in waiting[0]["summary"]
    with sessions() as session:
        row = session.scalars(select(FollowUp)).one()
        assert (row.state, row.outcome) == (FollowUpState.answered, "lukt_niet")
    sessions.kw["bind"].dispose()


def test_a_workers_reminder_shows_in_their_inbox_on_its_day(
    database_url: str, tmp_path: Path, stub_rasa: StubRasa, clock: Clock
) -> None:
    visitor = uuid.uuid4().hex
    sessions = session_factory(create_engine(database_url))
    with sessions.begin() as session:
        auth.create_worker(session, "anna", PASSWORD)
    today = utcnow().astimezone(followups.ZONE).date()
    day = today + dt.timedelta(days=2)
    with desk_app(database_url, tmp_path, stub_rasa) as client:
        citizen_says(client, visitor, "ik wil met een medewerker praten")
        anna = login(client, "anna")
        conversation_id = as_worker(client, anna, "GET", "/api/inbox").json()["waiting"][0]["conversation_id"]
        path = f"/api/inbox/conversations/{conversation_id}"
        body = {"due_on": day.isoformat(), "note": "uitslag aanvraag nagaan", "tell_citizen": True}
        assert as_worker(client, anna, "POST", f"{path}/reminders", json=body).status_code == 409  # claim first
        as_worker(client, anna, "POST", f"{path}/claim")
        past = {**body, "due_on": (today - dt.timedelta(days=1)).isoformat()}
        assert as_worker(client, anna, "POST", f"{path}/reminders", json=past).status_code == 422
        made = as_worker(client, anna, "POST", f"{path}/reminders", json=body)
        assert made.status_code == 201, made.text
        told = history(client, visitor)[-1]
        assert told["author"] == "worker" and told["text"].startswith("Je hoort uiterlijk ")
        listed = as_worker(client, anna, "GET", "/api/inbox/reminders").json()
        assert [(r["note"], r["due"]) for r in listed] == [("uitslag aanvraag nagaan", False)]

    clock.now = dt.datetime.combine(day, dt.time(9, 30), tzinfo=followups.ZONE).astimezone(dt.timezone.utc)
    the_round_is_due_again(database_url)
    with desk_app(database_url, tmp_path, stub_rasa) as client:
        anna = login(client, "anna")
        due = wait_for(lambda: [r for r in as_worker(client, anna, "GET", "/api/inbox/reminders").json() if r["due"]])
        assert due[0]["conversation_id"] == conversation_id
        assert as_worker(client, anna, "POST", f"/api/inbox/reminders/{due[0]['id']}/done").status_code == 204
        assert as_worker(client, anna, "GET", "/api/inbox/reminders").json() == []
    sessions.kw["bind"].dispose()
