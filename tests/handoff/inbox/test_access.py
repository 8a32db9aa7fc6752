"""Need-to-know in the inbox, through the real app on SQLite and PostgreSQL: the queue shows
summaries, a worker reads their own transcripts, anything else only with a reason in the
audit log; notes and closing need the claim; views are audited once, not on every refresh."""

from __future__ import annotations

import uuid
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
from handoff.store.models import AuditLog, Author, Conversation, Role
from tests.handoff.inbox.test_api import PASSWORD, as_worker, citizen_says, login
from tests.rasa_stub import StubRasa

JPEG = b"\xff\xd8\xff\xe0" + b"x" * 64


@pytest.fixture
def desk(database_url: str, tmp_path: Path, stub_rasa: StubRasa) -> Iterator[tuple[TestClient, str]]:
    settings = DeskSettings(
        database_url=database_url, secret_key_file=str(tmp_path / "secret"), attachments_dir=str(tmp_path / "files")
    )
    with TestClient(create_app(settings, rasa_client=stub_rasa.client)) as client:
        engine = create_engine(database_url)
        with session_factory(engine).begin() as session:
            auth.create_worker(session, "anna", PASSWORD)
            auth.create_worker(session, "bram", PASSWORD)
            auth.create_worker(session, "carla", PASSWORD, Role.admin)
        engine.dispose()
        yield client, database_url


def actions(url: str, action: str) -> list[AuditLog]:
    engine = create_engine(url)
    with session_factory(engine)() as session:
        found = list(session.scalars(select(AuditLog).where(AuditLog.action == action)))
    engine.dispose()
    return found


def queued_with_a_letter(client: TestClient, url: str) -> tuple[int, str]:
    citizen_says(client, uuid.uuid4().hex, "ik wil met een medewerker praten over de brief van de deurwaarder")
    entry = client.app.state.desk.attachments.save(JPEG, kind="photo", mime="image/jpeg", name="brief.jpg")  # type: ignore[attr-defined]
    engine = create_engine(url)
    with session_factory(engine).begin() as session:
        conversation = session.scalars(select(Conversation)).one()
        convs.record_message(session, conversation, Author.citizen, "", attachments=[entry])
        conversation_id = conversation.id
    engine.dispose()
    return conversation_id, str(entry["id"])


def test_a_waiting_conversation_shows_its_summary_until_claimed(desk: tuple[TestClient, str]) -> None:
    client, url = desk
    conversation_id, letter = queued_with_a_letter(client, url)
    anna = login(client, "anna")
    path = f"/api/inbox/conversations/{conversation_id}"
    for _refresh in range(3):
        waiting = as_worker(client, anna, "GET", path).json()
    assert waiting["access"] == "queue" and waiting["messages"] == []
    assert "deurwaarder" in waiting["summary"]
    assert as_worker(client, anna, "GET", f"/api/inbox/attachments/{letter}").status_code == 403
    for _refresh in range(3):
        as_worker(client, anna, "GET", "/api/inbox")
    assert len(actions(url, "view_summary")) == 1 and len(actions(url, "view_queue")) == 1

    assert as_worker(client, anna, "POST", f"{path}/claim").status_code == 200
    for _refresh in range(3):
        mine = as_worker(client, anna, "GET", path).json()
    assert mine["access"] == "own" and mine["messages"][0]["author"] == "citizen"
    assert as_worker(client, anna, "GET", f"/api/inbox/attachments/{letter}").content == JPEG
    assert len(actions(url, "view")) == 1, "one view, however often the page re-reads it"


def test_a_colleagues_transcript_opens_only_with_a_reason(desk: tuple[TestClient, str]) -> None:
    client, url = desk
    conversation_id, letter = queued_with_a_letter(client, url)
    anna, bram = login(client, "anna"), login(client, "bram")
    path = f"/api/inbox/conversations/{conversation_id}"
    assert as_worker(client, anna, "POST", f"{path}/claim").status_code == 200

    closed = as_worker(client, bram, "GET", path).json()
    assert closed["access"] == "none" and closed["messages"] == [] and closed["summary"] is None
    carla = login(client, "carla")
    assert as_worker(client, carla, "GET", path).json()["access"] == "none", "admins follow the same rule"
    assert as_worker(client, bram, "GET", f"/api/inbox/attachments/{letter}").status_code == 403
    assert as_worker(client, bram, "POST", f"{path}/read", json={"reason": "kort"}).status_code == 422
    opened = as_worker(client, bram, "POST", f"{path}/read", json={"reason": "Anna is ziek, ik neem waar"})
    assert opened.status_code == 200 and opened.json()["access"] == "reason" and opened.json()["messages"]
    assert as_worker(client, bram, "GET", path).json()["access"] == "reason"  # for a while, without asking again
    assert as_worker(client, bram, "GET", f"/api/inbox/attachments/{letter}").content == JPEG
    [entry] = actions(url, "view_with_reason")
    assert entry.detail == {"reason": "Anna is ziek, ik neem waar"} and entry.conversation_id == conversation_id


def test_notes_and_closing_need_the_claim_admins_need_a_reason(desk: tuple[TestClient, str]) -> None:
    client, url = desk
    conversation_id, _letter = queued_with_a_letter(client, url)
    anna, bram, carla = login(client, "anna"), login(client, "bram"), login(client, "carla")
    path = f"/api/inbox/conversations/{conversation_id}"
    note = {"text": "even nagaan", "internal": True}
    close = {"outcome": "resolved", "case_note": ""}
    assert as_worker(client, bram, "POST", f"{path}/messages", json=note).status_code == 409  # waiting: claim first
    assert as_worker(client, bram, "POST", f"{path}/close", json=close).status_code == 409
    assert as_worker(client, anna, "POST", f"{path}/claim").status_code == 200
    assert as_worker(client, bram, "POST", f"{path}/messages", json=note).status_code == 409  # anna's
    assert as_worker(client, bram, "POST", f"{path}/close", json=close).status_code == 409
    assert as_worker(client, carla, "POST", f"{path}/close", json=close).status_code == 409  # admin, no reason
    assert as_worker(client, anna, "POST", f"{path}/messages", json=note).status_code == 201
    with_reason = {**close, "reason": "inwoner belde: probleem opgelost"}
    assert as_worker(client, carla, "POST", f"{path}/close", json=with_reason).status_code == 204
    [entry] = actions(url, "close_with_reason")
    assert entry.detail == {"reason": "inwoner belde: probleem opgelost"}
