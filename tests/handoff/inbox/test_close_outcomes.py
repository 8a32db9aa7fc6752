"""Closing with a result per life domain through the real app, on SQLite and PostgreSQL
(issue 15): the transcript names the triage's domains, the worker adds one, a referral names
a formal or informal offer; what cannot be stored is a Dutch 422 and the conversation stays
open; the old close without results still works; the admin's results count it."""

from __future__ import annotations

import datetime as dt
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
from handoff.store.models import Conversation, ConversationStatus, DomainOutcome, Role
from tests.handoff.inbox.test_api import PASSWORD, as_worker, citizen_says, login
from tests.rasa_stub import StubRasa


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


def _claimed(client: TestClient, anna: dict[str, str]) -> int:
    citizen_says(client, uuid.uuid4().hex, "ik heb schulden en kan de huur niet betalen, ik wil een medewerker")
    conversation_id = as_worker(client, anna, "GET", "/api/inbox").json()["waiting"][0]["conversation_id"]
    assert as_worker(client, anna, "POST", f"/api/inbox/conversations/{conversation_id}/claim").status_code == 200
    return int(conversation_id)


def test_close_with_a_result_per_life_domain(desk: tuple[TestClient, str]) -> None:
    client, url = desk
    anna = login(client, "anna")
    conversation_id = _claimed(client, anna)
    path = f"/api/inbox/conversations/{conversation_id}"
    domains = as_worker(client, anna, "GET", path).json()["domains"]
    assert "financien" in domains

    options = as_worker(client, anna, "GET", "/api/inbox/referral-options").json()
    kinds = {o["key"]: o["kind"] for o in options}
    assert kinds["schuldhulpmaatje"] == "informal" and kinds["schuldhulpverlening_gemeente"] == "formal"
    assert all(o["example"] for o in options if o["key"].endswith("_voorbeeld"))

    unknown = {"domain": "financien", "result": "referred", "referral": "nergens"}
    refused = as_worker(
        client, anna, "POST", f"{path}/close", json={"outcome": "referred", "domain_outcomes": [unknown]}
    )
    assert refused.status_code == 422 and "Onbekende plek" in refused.json()["detail"]
    no_place = {"domain": "financien", "result": "referred"}
    refused = as_worker(
        client, anna, "POST", f"{path}/close", json={"outcome": "referred", "domain_outcomes": [no_place]}
    )
    assert refused.status_code == 422 and "waarheen" in refused.json()["detail"]

    results = [
        {"domain": "financien", "result": "referred", "referral": "schuldhulpmaatje"},
        {"domain": "sociaal_netwerk", "result": "improved"},  # added by the worker
    ]
    closed = as_worker(client, anna, "POST", f"{path}/close", json={"outcome": "referred", "domain_outcomes": results})
    assert closed.status_code == 204, closed.text
    engine = create_engine(url)
    with session_factory(engine)() as session:
        conversation = session.get(Conversation, conversation_id)
        assert conversation is not None and conversation.status is ConversationStatus.closed
        rows = session.scalars(select(DomainOutcome).order_by(DomainOutcome.id)).all()
        assert [(r.domain, r.result.value, r.referral_key, r.referral_kind) for r in rows] == [
            ("financien", "referred", "schuldhulpmaatje", "informal"),
            ("sociaal_netwerk", "improved", None, None),
        ]
        assert all(r.conversation_id == conversation_id and r.team_id == conversation.team_id for r in rows)
    engine.dispose()

    carla = login(client, "carla")
    today = dt.datetime.now(dt.timezone.utc).date().isoformat()
    assert as_worker(client, anna, "GET", "/api/admin/dashboard/results").status_code == 403
    found = as_worker(client, carla, "GET", "/api/admin/dashboard/results", params={"start": today}).json()
    assert found["referrals"] == {"formal": 0, "informal": 1}
    assert found["per_domain"]["Financiën"]["referred"] == 1 and found["per_domain"]["Sociaal netwerk"]["improved"] == 1
    assert found["followups"] == {"sent": 0, "answered": 0}
    for chart in ("domains", "teams", "referrals", "first-contact"):
        svg = as_worker(client, carla, "GET", f"/api/admin/dashboard/results/{chart}.svg", params={"start": today})
        assert svg.status_code == 200 and svg.headers["content-type"].startswith("image/svg+xml")
    referrals = as_worker(client, carla, "GET", "/api/admin/dashboard/results/referrals.svg", params={"start": today})
    assert "SchuldHulpMaatje" in referrals.text
    bad = as_worker(client, carla, "GET", "/api/admin/dashboard/results", params={"team_id": 0})
    assert bad.status_code == 422


def test_the_old_close_without_results_still_works(desk: tuple[TestClient, str]) -> None:
    client, url = desk
    anna = login(client, "anna")
    conversation_id = _claimed(client, anna)
    closed = as_worker(
        client, anna, "POST", f"/api/inbox/conversations/{conversation_id}/close", json={"outcome": "resolved"}
    )
    assert closed.status_code == 204
    engine = create_engine(url)
    with session_factory(engine)() as session:
        assert session.scalars(select(DomainOutcome)).all() == []
    engine.dispose()
