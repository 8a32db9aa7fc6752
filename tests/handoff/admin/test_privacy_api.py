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

from baken_core.summary import TriageRecord, build_summary
from desk.app import create_app
from handoff import auth
from handoff.config import DeskSettings
from handoff.store import conversations as convs
from handoff.store.db import create_engine, session_factory
from handoff.store.models import (
    AuditLog,
    Author,
    Channel,
    Conversation,
    ConversationStatus,
    FollowUp,
    FollowUpKind,
    FollowUpState,
    JobLease,
    Message,
    Role,
    TrainingExample,
)
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
        session.add(
            FollowUp(
                kind=FollowUpKind.checkin,
                state=FollowUpState.answered,
                conversation_id=conversation.id,
                citizen_id=conversation.citizen_id,
                reason="closed",
                outcome="gelukt",
            )
        )
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
        "followups",
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
    assert kinds["followups"]["kept"] == "Met hun gesprek: 90 dagen na het sluiten"
    assert (kinds["followups"]["due_now"], kinds["followups"]["due_within_week"]) == (0, 1)  # with its conversation
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


def _telegram_conversation(url: str, chat_id: str, first_name: str, words: str, days_ago: int = 0) -> int:
    """A Telegram citizen's conversation, handed to the queue with a summary of their words."""
    engine = create_engine(url)
    with session_factory(engine).begin() as session:
        citizen = convs.citizen_for(session, Channel.telegram, chat_id, display_name=first_name)
        conversation = convs.active_conversation(session, citizen, source=None)
        convs.record_message(session, conversation, Author.citizen, words)
        summary = build_summary(TriageRecord(urgency="normal", domains=["financien"], citizen_words=[words]))
        convs.queue(session, conversation, reason="request_human", domains=["financien"], summary=summary)
        if days_ago:  # an earlier conversation, closed the next day
            now = dt.datetime.now(dt.timezone.utc)
            conversation.created_at = now - dt.timedelta(days=days_ago)
            conversation.status = ConversationStatus.closed
            conversation.closed_at = now - dt.timedelta(days=days_ago - 1)
        session.flush()
        conversation_id = conversation.id
    engine.dispose()
    return conversation_id


def test_an_admin_finds_the_conversation_number_with_a_reason_then_erases(desk: tuple[TestClient, str]) -> None:
    """A citizen calls: 'I chatted on Telegram today, my name is Fatima'. The admin finds the
    number by channel, days and first name, only after giving a reason (audited, without the
    name), sees a few words to recognise it, and erases from that list."""
    client, url = desk
    fatima = _telegram_conversation(url, "5550001", "Fatima", "ik heb een brief van de deurwaarder over mijn huur")
    henk = _telegram_conversation(url, "5550002", "Henk", "mijn toeslag is gestopt en nu weet ik het niet")
    old = _telegram_conversation(url, "5550003", "Fatima", "een oude vraag over kwijtschelding", days_ago=40)
    citizen_says(client, uuid.uuid4().hex, "hoe vraag ik huurtoeslag aan")  # a widget conversation
    anna, bram = login(client, "anna"), login(client, "bram")
    today = dt.date.today()
    body = {
        "channel": "telegram",
        "date_from": (today - dt.timedelta(days=1)).isoformat(),
        "date_to": (today + dt.timedelta(days=1)).isoformat(),
        "first_name": " fatima ",
        "reason": "verzoek van de inwoner per telefoon",
    }
    engine = create_engine(url)

    def lookups() -> list[AuditLog]:
        with session_factory(engine)() as session:
            return list(session.scalars(select(AuditLog).where(AuditLog.action == "erase_lookup")))

    assert as_worker(client, anna, "POST", "/api/admin/erase/lookup", json=body).status_code == 403
    assert as_worker(client, bram, "POST", "/api/admin/erase/lookup", json={**body, "reason": ""}).status_code == 422
    no_reason = {k: v for k, v in body.items() if k != "reason"}
    assert as_worker(client, bram, "POST", "/api/admin/erase/lookup", json=no_reason).status_code == 422
    assert lookups() == []  # nothing shown, nothing to audit

    found = as_worker(client, bram, "POST", "/api/admin/erase/lookup", json=body)
    assert found.status_code == 200, found.text
    rows = found.json()["conversations"]
    assert [row["id"] for row in rows] == [fatima]  # not Henk, not another Fatima's of 40 days ago
    assert rows[0]["channel"] == "telegram" and rows[0]["status"] == "queued"
    assert rows[0]["summary_start"] == "ik heb een brief van de deurwaarder over …"
    assert found.json()["more"] is False
    [entry] = lookups()
    assert entry.worker_id is not None and entry.detail == {
        "reason": "verzoek van de inwoner per telefoon",
        "channel": "telegram",
        "from": body["date_from"],
        "to": body["date_to"],
        "by_first_name": True,
        "conversations": [fatima],
    }
    assert "atima" not in str(entry.detail)  # the name searched for is not kept

    # without a name: every Telegram conversation of those days; a wider period finds the old one
    everyone = as_worker(client, bram, "POST", "/api/admin/erase/lookup", json={**body, "first_name": None})
    assert {row["id"] for row in everyone.json()["conversations"]} == {fatima, henk}
    wider = {**body, "date_from": (today - dt.timedelta(days=45)).isoformat()}
    assert {
        row["id"]
        for row in as_worker(client, bram, "POST", "/api/admin/erase/lookup", json=wider).json()["conversations"]
    } == {fatima, old}
    widget = as_worker(client, bram, "POST", "/api/admin/erase/lookup", json={**body, "channel": "widget"})
    assert widget.status_code == 422 and "Telegram" in widget.json()["detail"]  # a visitor has no name
    widget = as_worker(
        client, bram, "POST", "/api/admin/erase/lookup", json={**body, "channel": "widget", "first_name": ""}
    )
    assert [row["channel"] for row in widget.json()["conversations"]] == ["widget"]
    assert widget.json()["conversations"][0]["summary_start"] is None  # it never reached a worker
    backwards = {**body, "date_from": body["date_to"], "date_to": body["date_from"]}
    assert as_worker(client, bram, "POST", "/api/admin/erase/lookup", json=backwards).status_code == 422

    # then erase from that list: everything of this Fatima, nothing of Henk or the other Fatima
    erased = as_worker(
        client, bram, "POST", "/api/admin/erase", json={"conversation_id": fatima, "reason": body["reason"]}
    )
    assert erased.status_code == 200, erased.text
    assert erased.json()["erased_conversations"] == [fatima]
    with session_factory(engine)() as session:
        texts = session.scalars(select(Message.text)).all()
    engine.dispose()
    assert not any("deurwaarder" in t for t in texts)
    assert any("toeslag is gestopt" in t for t in texts) and any("kwijtschelding" in t for t in texts)
