"""The admin's privacy page API: what retention deletes when, and erasure on a citizen's
request, through the real app on SQLite and PostgreSQL (a scripted Rasa)."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from desk.app import create_app
from handoff import auth
from handoff.config import DeskSettings
from handoff.store.db import create_engine, session_factory
from handoff.store.models import AuditLog, Conversation, JobLease, Message, Role, TrainingExample
from tests.handoff.inbox.test_api import PASSWORD, as_worker, citizen_says, login
from tests.rasa_stub import StubRasa


@pytest.fixture
def desk(database_url: str, tmp_path: Path, stub_rasa: StubRasa) -> Iterator[tuple[TestClient, str]]:
    settings = DeskSettings(database_url=database_url, secret_key_file=str(tmp_path / "secret"))
    with TestClient(create_app(settings, rasa_client=stub_rasa.client)) as client:
        engine = create_engine(database_url)
        with session_factory(engine).begin() as session:
            auth.create_worker(session, "anna", PASSWORD)
            auth.create_worker(session, "bram", PASSWORD, Role.admin)
        engine.dispose()
        yield client, database_url


def test_the_retention_overview_says_what_goes_when(desk: tuple[TestClient, str]) -> None:
    client, url = desk
    engine = create_engine(url)
    # the periodic jobs' first rounds run right after start, in the background: wait for them,
    # so the tracker retention does not take the conversation this test closes below
    for _ in range(100):
        with session_factory(engine)() as session:
            done = session.scalars(select(JobLease.name).where(JobLease.finished_at.is_not(None))).all()
        if {"retention", "tracker retention"} <= set(done):
            break
        time.sleep(0.1)
    visitor = uuid.uuid4().hex
    citizen_says(client, visitor, "ik wil met een medewerker praten")
    with session_factory(engine).begin() as session:
        conversation = session.scalars(select(Conversation)).one()
        conversation.status = conversation.status.closed
        conversation.closed_at = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=85)
        session.add(TrainingExample(intent="ask_huurtoeslag", text="hoe vraag ik huurtoeslag aan"))
    engine.dispose()
    anna, bram = login(client, "anna"), login(client, "bram")
    assert as_worker(client, anna, "GET", "/api/admin/retention").status_code == 403
    overview = as_worker(client, bram, "GET", "/api/admin/retention").json()
    kinds = {k["kind"]: k for k in overview["kinds"]}
    assert set(kinds) == {
        "attachments",
        "summaries",
        "conversations",
        "idle",
        "trackers",
        "nlu_inbox",
        "training_examples",
        "audit",
    }
    examples = kinds["training_examples"]
    assert examples["automatic"] is False and examples["stored"] == 1 and examples["due_now"] == 0
    assert "beheerder" in examples["kept"] and "wist" in examples["kept"]
    assert kinds["conversations"]["kept"] == "90 dagen na het sluiten"
    assert (kinds["conversations"]["due_now"], kinds["conversations"]["due_within_week"]) == (0, 1)
    next_at = dt.datetime.fromisoformat(kinds["conversations"]["next_at"])
    assert dt.timedelta(days=4) < next_at - dt.datetime.now(dt.timezone.utc) < dt.timedelta(days=6)
    assert kinds["trackers"]["due_now"] == 1  # 24 hours after closing
    assert kinds["audit"]["due_now"] == 0 and kinds["audit"]["kept"] == "365 dagen"
    assert overview["never_automatic"] == 0
    for _ in range(100):  # the job's first round runs right after start, in the background
        if as_worker(client, bram, "GET", "/api/admin/retention").json()["next_run"] is not None:
            break
        time.sleep(0.1)
    else:
        raise AssertionError("the retention job never ran")


def test_an_admin_erases_a_citizen_with_a_reason(desk: tuple[TestClient, str]) -> None:
    client, url = desk
    visitor, other = uuid.uuid4().hex, uuid.uuid4().hex
    citizen_says(client, visitor, "ik wil met een medewerker praten over mijn huurschuld")
    citizen_says(client, other, "hoe vraag ik huurtoeslag aan")
    anna, bram = login(client, "anna"), login(client, "bram")
    engine = create_engine(url)
    with session_factory(engine)() as session:
        conversation_id = session.scalars(select(Conversation.id).order_by(Conversation.id)).first()
    body = {"conversation_id": conversation_id, "reason": "verzoek van de inwoner per telefoon"}
    assert as_worker(client, anna, "POST", "/api/admin/erase", json=body).status_code == 403
    assert as_worker(client, bram, "POST", "/api/admin/erase", json={**body, "reason": ""}).status_code == 422
    erased = as_worker(client, bram, "POST", "/api/admin/erase", json=body)
    assert erased.status_code == 200, erased.text
    assert erased.json() == {"erased_conversations": [conversation_id]}
    assert as_worker(client, bram, "POST", "/api/admin/erase", json=body).status_code == 404
    with session_factory(engine)() as session:
        texts = session.scalars(select(Message.text)).all()
        entry = session.scalars(select(AuditLog).where(AuditLog.action == "erase")).one()
        bram_id = entry.worker_id
    engine.dispose()
    assert texts and not any("huurschuld" in t for t in texts)
    assert entry.detail == {
        "by": "admin",
        "channel": "widget",
        "conversations": [conversation_id],
        "reason": "verzoek van de inwoner per telefoon",
    }
    assert bram_id is not None
