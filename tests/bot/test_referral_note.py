"""The warm referral note (issue 15) through the real app, on SQLite and PostgreSQL: only with
the citizen's yes; what they asked in their own words (no BSN), the life domains, what the
assistant explained, the results and the next step with where to go; never a worker's internal
note, case note or transfer note; a worker can offer it, the citizen hears how to ask."""

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
from handoff.inbox.api import SUMMARY_OFFER
from handoff.store import conversations as convs
from handoff.store.db import create_engine, session_factory
from handoff.store.models import AuditLog, Author, Conversation
from tests.handoff.inbox.test_api import PASSWORD, as_worker, citizen_says, login
from tests.rasa_stub import StubRasa

BSN = "111222333"  # passes the elfproef


@pytest.fixture
def desk(database_url: str, tmp_path: Path, stub_rasa: StubRasa) -> Iterator[tuple[TestClient, str]]:
    settings = DeskSettings(database_url=database_url, secret_key_file=str(tmp_path / "secret"))
    with TestClient(create_app(settings, rasa_client=stub_rasa.client)) as client:
        engine = create_engine(database_url)
        with session_factory(engine).begin() as session:
            auth.create_worker(session, "anna", PASSWORD)
        engine.dispose()
        yield client, database_url


def _summary(client: TestClient, visitor: str, consent: bool = True):
    return client.post("/api/widget/summary", json={"visitor_id": visitor, "consent": consent})


def test_the_note_needs_consent_and_holds_what_the_citizen_needs(desk: tuple[TestClient, str]) -> None:
    client, url = desk
    visitor = uuid.uuid4().hex
    assert _summary(client, visitor).status_code == 404  # nothing yet
    citizen_says(client, visitor, f"ik heb schulden en mijn bsn is {BSN}, ik wil een medewerker")
    anna = login(client, "anna")
    conversation_id = as_worker(client, anna, "GET", "/api/inbox").json()["waiting"][0]["conversation_id"]
    path = f"/api/inbox/conversations/{conversation_id}"
    assert as_worker(client, anna, "POST", f"{path}/offer-summary").status_code == 409  # not claimed yet
    as_worker(client, anna, "POST", f"{path}/claim")
    assert as_worker(client, anna, "POST", f"{path}/offer-summary").status_code == 204
    history = client.get("/api/widget/messages", headers={"X-Baken-Visitor": visitor}).json()["messages"]
    assert history[-1]["text"] == SUMMARY_OFFER["widget"] and "Samenvatting" in history[-1]["text"]
    internal = {"text": "Interne notitie: geheim dossier", "internal": True}
    as_worker(client, anna, "POST", f"{path}/messages", json=internal)
    engine = create_engine(url)
    with session_factory(engine).begin() as session:
        conversation = session.get(Conversation, conversation_id)
        assert conversation is not None
        convs.record_message(session, conversation, Author.citizen, "hoe zit het met huurtoeslag")
        last = conversation.messages[-1]
        last.nlu = {"intent": "ask_huurtoeslag", "confidence": 0.9}
    results = [
        {"domain": "financien", "result": "referred", "referral": "schuldhulpmaatje"},
        {"domain": "sociaal_netwerk", "result": "improved"},
    ]
    closed = as_worker(
        client,
        anna,
        "POST",
        f"{path}/close",
        json={"outcome": "referred", "case_note": "casusnotitie vertrouwelijk", "domain_outcomes": results},
    )
    assert closed.status_code == 204

    refused = _summary(client, visitor, consent=False)
    assert refused.status_code == 422 and "ja op zegt" in refused.json()["detail"]
    with session_factory(engine)() as session:
        assert session.scalars(select(AuditLog).where(AuditLog.action == "referral_note")).all() == []

    made = _summary(client, visitor)
    assert made.status_code == 200
    note, filename = made.json()["text"], made.json()["filename"]
    assert filename.endswith(".txt")
    assert note.startswith("Samenvatting van je gesprek met Baken\n")
    assert "Wat je vroeg (in je eigen woorden):" in note and "ik heb schulden" in note
    assert BSN not in note and "[BSN]" in note
    assert "Waar het over gaat: Financiën" in note and "Sociaal netwerk" in note
    assert "Wat de assistent al uitlegde:\n- Huurtoeslag: https://" in note
    assert "- Sociaal netwerk: gaat beter" in note
    assert "- Financiën: ga naar SchuldHulpMaatje." in note and "https://schuldhulpmaatje.nl" in note
    for secret in ("geheim dossier", "casusnotitie", "Interne notitie", "SAMENVATTING"):
        assert secret not in note
    assert "\n- /" not in note  # no button payloads
    with session_factory(engine)() as session:
        logged = session.scalars(select(AuditLog).where(AuditLog.action == "referral_note")).all()
        assert len(logged) == 1 and logged[0].detail == {"channel": "widget"}  # no text in the log
    engine.dispose()


def test_without_results_the_next_step_is_the_wijkteam(desk: tuple[TestClient, str]) -> None:
    client, _url = desk
    visitor = uuid.uuid4().hex
    citizen_says(client, visitor, "ik weet niet wat ik moet doen met mijn post")
    note = _summary(client, visitor).json()["text"]
    assert "Volgende stap:\n- Neem contact op met Sociaal wijkteam Voorbeeld" in note
    assert "wijkteam@gemeente-voorbeeld.example" in note
