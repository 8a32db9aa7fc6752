"""The NLU inbox through the real app and the real Rasa server: the parse comes back with
the replies (the `baken` channel), unsure messages reach the admin masked, workers flag,
admins annotate and keep them as training examples in the database (never in data/), see
them and delete one."""

from __future__ import annotations

import datetime as dt
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from baken_core.paths import PROJECT_ROOT
from desk.app import create_app
from handoff import auth
from handoff.config import DeskSettings
from handoff.learning import training_data
from handoff.store.db import create_engine, session_factory
from handoff.store.models import AuditLog, Author, Message, Role
from tests.handoff.inbox.test_api import PASSWORD, as_worker, citizen_says, login
from tests.rasa_stub import StubRasa

VALID_BSN = "111222333"


@pytest.fixture
def desk(
    tmp_path: Path, stub_rasa: StubRasa, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[TestClient, str, Path]]:
    data = tmp_path / "data"
    shutil.copytree(PROJECT_ROOT / "data", data)
    monkeypatch.setenv("BAKEN_DATA_DIR", str(data))
    url = f"sqlite:///{tmp_path / 'desk.db'}"
    # Every message counts as unsure (confidence below 1.0), so the test does not depend on
    # what this model happens to be unsure about; test_nlu_inbox covers the thresholds.
    settings = DeskSettings(database_url=url, secret_key_file=str(tmp_path / "secret"), nlu_inbox_confidence=1.0)
    with TestClient(create_app(settings, rasa_client=stub_rasa.client)) as client:
        with session_factory(create_engine(url)).begin() as session:
            auth.create_worker(session, "anna", PASSWORD)
            auth.create_worker(session, "bram", PASSWORD, Role.admin)
        yield client, url, data


def test_every_handled_message_keeps_its_parse(desk: tuple[TestClient, str, Path]) -> None:
    client, url, _ = desk
    citizen_says(client, uuid.uuid4().hex, "hoe vraag ik huurtoeslag aan")
    with session_factory(create_engine(url))() as session:
        message = session.scalars(select(Message).where(Message.author == Author.citizen)).one()
    assert message.nlu is not None
    assert message.nlu["intent"] == "ask_huurtoeslag" and message.nlu["confidence"] > 0.5
    assert message.nlu["ranking"][0]["name"] == "ask_huurtoeslag"
    assert message.nlu["entities"] == ["benefit"]  # the type only: entity text can be personal
    assert "financien" in message.nlu["domains"] or message.nlu["domains"] == []


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def merged_nlu(session: Session, out: Path, name: str) -> str:
    """The topic file as the next training would see it."""
    training_data.merge(session, out)
    return (out / "nlu" / name).read_text(encoding="utf-8")


def test_unsure_message_reaches_the_admin_masked_and_is_annotated(
    desk: tuple[TestClient, str, Path], tmp_path: Path
) -> None:
    client, url, data = desk
    visitor = uuid.uuid4().hex
    text = f"mijn bsn is {VALID_BSN} en mail me op piet@example.nl, wat is een wsnp traject eigenlijk"
    citizen_says(client, visitor, text)
    citizen_says(client, uuid.uuid4().hex, "blablabla qwerty zxcv")

    anna, bram = login(client, "anna"), login(client, "bram")
    assert as_worker(client, anna, "GET", "/api/admin/nlu-inbox").status_code == 403  # workers are not admins

    inbox = as_worker(client, bram, "GET", "/api/admin/nlu-inbox").json()
    texts = [g["text"] for g in inbox["groups"]]
    assert any("[BSN]" in t and "[EMAIL]" in t for t in texts), texts
    assert all(VALID_BSN not in t and "piet@example.nl" not in t for t in texts)
    catalogue = {i["name"]: i for i in inbox["intents"]}
    assert catalogue["ask_schuldhulpverlening"]["topic"] == "schulden" and catalogue["report_crisis"]["meaning"]

    group = next(g for g in inbox["groups"] if "[BSN]" in g["text"])
    bad = as_worker(
        client, bram, "POST", "/api/admin/nlu-inbox/annotate", json={"item_ids": group["item_ids"], "action": "intent"}
    )
    assert bad.status_code == 422 and "intentie" in bad.json()["detail"]
    done = as_worker(
        client,
        bram,
        "POST",
        "/api/admin/nlu-inbox/annotate",
        json={"item_ids": group["item_ids"], "action": "intent", "intent": "ask_schuldhulpverlening"},
    )
    assert done.json() == {"updated": len(group["item_ids"])}
    after = as_worker(client, bram, "GET", "/api/admin/nlu-inbox").json()
    assert all(g["group_key"] != group["group_key"] for g in after["groups"])

    before = snapshot(data)
    exported = as_worker(client, bram, "POST", "/api/admin/nlu-inbox/export").json()
    assert exported["written"] == {"schulden": 1} and exported["refused"] == []
    assert snapshot(data) == before  # nothing under data/ changed
    kept = as_worker(client, bram, "GET", "/api/admin/training-examples").json()
    assert kept["total"] == 1 and as_worker(client, anna, "GET", "/api/admin/training-examples").status_code == 403
    example = kept["examples"][0]
    assert "wat is een wsnp traject eigenlijk" in example["text"] and VALID_BSN not in example["text"]
    assert "[BSN]" in example["text"] and example["intent"] == "ask_schuldhulpverlening"
    assert example["annotated_by"] == "bram" and example["linked"] is True
    with session_factory(create_engine(url)).begin() as session:
        written = merged_nlu(session, tmp_path / "merged", "schulden.yml")
    assert "wat is een wsnp traject eigenlijk" in written and "[BSN]" in written  # in the next training's data

    assert as_worker(client, anna, "DELETE", f"/api/admin/training-examples/{example['id']}").status_code == 403
    assert as_worker(client, bram, "DELETE", f"/api/admin/training-examples/{example['id']}").status_code == 204
    assert as_worker(client, bram, "DELETE", f"/api/admin/training-examples/{example['id']}").status_code == 404
    assert as_worker(client, bram, "GET", "/api/admin/training-examples").json() == {"total": 0, "examples": []}
    with session_factory(create_engine(url)).begin() as session:
        assert "wsnp traject" not in merged_nlu(session, tmp_path / "merged-after", "schulden.yml")
        deleted = session.scalars(select(AuditLog).where(AuditLog.action == "delete_training_example")).one()
        assert deleted.detail == {"example": example["id"]}  # the number, not the text


def test_the_admin_marks_words_as_entities(desk: tuple[TestClient, str, Path], tmp_path: Path) -> None:
    client, url, data = desk
    citizen_says(client, uuid.uuid4().hex, "ik heb een achterstand bij Vesteda van 250 euro, bel me op 0612345678")
    bram = login(client, "bram")
    inbox = as_worker(client, bram, "GET", "/api/admin/nlu-inbox").json()
    types = {t["name"]: t for t in inbox["entity_types"]}
    assert set(types) >= {"benefit", "creditor", "amount", "period"}
    assert "woningcorporatie" in types["creditor"]["values"]
    group = next(g for g in inbox["groups"] if "Vesteda" in g["text"])
    assert "[TELEFOON]" in group["text"]

    def annotate(entities: list[dict[str, str]], action: str = "intent") -> Any:
        body = {"item_ids": group["item_ids"], "action": action, "intent": "report_huurachterstand"}
        body["entities"] = entities
        return as_worker(client, bram, "POST", "/api/admin/nlu-inbox/annotate", json=body)

    refused = {
        "not in the message": [{"text": "ymere", "entity": "creditor"}],
        "unknown type": [{"text": "vesteda", "entity": "persoon"}],
        "a placeholder": [{"text": "[TELEFOON]", "entity": "creditor"}],
        "personal data": [{"text": "0612345678", "entity": "creditor"}],
        "bad value": [{"text": "vesteda", "entity": "creditor", "value": "Woning Corporatie"}],
        "markup": [{"text": "vesteda](creditor", "entity": "creditor"}],
    }
    for why, entities in refused.items():
        answer = annotate(entities)
        assert answer.status_code == 422, why
    assert annotate([{"text": "vesteda", "entity": "creditor"}], action="discard").status_code == 422
    assert as_worker(client, bram, "GET", "/api/admin/nlu-inbox").json()["open"] == inbox["open"]  # nothing lost

    vesteda = {"text": "Vesteda", "entity": "creditor", "value": "woningcorporatie"}
    done = annotate([vesteda, {"text": "250 euro", "entity": "amount"}])
    assert done.json() == {"updated": len(group["item_ids"])}
    before = snapshot(data)
    exported = as_worker(client, bram, "POST", "/api/admin/nlu-inbox/export").json()
    assert exported["patterns_added"] == ["creditor: vesteda"]  # amounts are found by the ruler's number rules
    assert snapshot(data) == before
    kept = as_worker(client, bram, "GET", "/api/admin/training-examples").json()["examples"]
    assert [e["entities"] for e in kept] == [["creditor: vesteda", "amount: 250 euro"]]
    with session_factory(create_engine(url)).begin() as session:
        written = merged_nlu(session, tmp_path / "merged", "schulden.yml")
    assert "achterstand bij [Vesteda](creditor) van [250 euro](amount)" in written
    patterns = yaml.safe_load((tmp_path / "merged" / "nlp" / "entity_patterns.yml").read_text(encoding="utf-8"))
    assert "vesteda" in patterns["phrases"]["creditor"]["woningcorporatie"]


def test_a_worker_flags_a_message_the_assistant_misunderstood(desk: tuple[TestClient, str, Path]) -> None:
    client, url, _ = desk
    citizen_says(client, uuid.uuid4().hex, "hoe vraag ik zorgtoeslag aan")
    with session_factory(create_engine(url))() as session:
        message_id = session.scalars(select(Message.id).where(Message.author == Author.citizen)).one()
        bot_id = session.scalars(select(Message.id).where(Message.author == Author.bot)).first()
    anna, bram = login(client, "anna"), login(client, "bram")
    flagged = as_worker(client, anna, "POST", f"/api/inbox/messages/{message_id}/flag")
    assert flagged.status_code == 201 and flagged.json()["item_id"]
    assert as_worker(client, anna, "POST", f"/api/inbox/messages/{bot_id}/flag").status_code == 404
    assert as_worker(client, anna, "POST", "/api/inbox/messages/999999/flag").status_code == 404
    groups = as_worker(client, bram, "GET", "/api/admin/nlu-inbox").json()["groups"]
    assert [g["reasons"] for g in groups if g["text"] == "hoe vraag ik zorgtoeslag aan"] == [["flagged"]]


def test_a_sure_message_stays_out_of_the_inbox(tmp_path: Path, stub_rasa: StubRasa) -> None:
    url = f"sqlite:///{tmp_path / 'desk.db'}"
    settings = DeskSettings(database_url=url, secret_key_file=str(tmp_path / "secret"))
    with TestClient(create_app(settings, rasa_client=stub_rasa.client)) as client:
        citizen_says(client, uuid.uuid4().hex, "hoe vraag ik huurtoeslag aan")
        with session_factory(create_engine(url)).begin() as session:
            auth.create_worker(session, "bram", PASSWORD, Role.admin)
        bram = login(client, "bram")
        assert as_worker(client, bram, "GET", "/api/admin/nlu-inbox").json()["open"] == 0


def test_the_dashboard_counts_and_refuses_a_bad_period(desk: tuple[TestClient, str, Path]) -> None:
    client, _, _ = desk
    citizen_says(client, uuid.uuid4().hex, "ik wil met een medewerker praten")
    anna, bram = login(client, "anna"), login(client, "bram")
    assert as_worker(client, anna, "GET", "/api/admin/dashboard").status_code == 403
    figures = as_worker(client, bram, "GET", "/api/admin/dashboard").json()
    assert figures["conversations"] == 1 and figures["handed_off"] == 1 and figures["handoff_rate"] == 1.0
    assert len(figures["conversations_per_day"]) == 30
    wrong = as_worker(client, bram, "GET", "/api/admin/dashboard", params={"start": "2026-12-01", "end": "2026-11-01"})
    assert wrong.status_code == 422 and "begindatum" in wrong.json()["detail"]
    assert as_worker(client, anna, "GET", "/api/admin/dashboard/content").status_code == 403
    attention = as_worker(client, bram, "GET", "/api/admin/dashboard/content").json()
    reasons = {(item["intent"], item["why"]) for item in attention}
    assert any(i == "ask_zorgtoeslag" and "31 december 2026" in why for i, why in reasons)  # the 2026 amounts
    assert ("ask_kwijtschelding", "geen bron met een datum") in reasons
    chart = as_worker(client, bram, "GET", "/api/admin/dashboard/conversations.svg")
    assert chart.status_code == 200 and chart.text.startswith("<svg")
    assert as_worker(client, anna, "POST", "/api/admin/models/train").status_code == 403


def test_admins_manage_accounts_and_cannot_lock_themselves_out(desk: tuple[TestClient, str, Path]) -> None:
    client, _, _ = desk
    anna, bram = login(client, "anna"), login(client, "bram")
    new = {"name": "carla", "role": "worker", "password": "nog een lang wachtwoord", "max_concurrent": 3}
    assert as_worker(client, anna, "POST", "/api/admin/workers", json=new).status_code == 403
    created = as_worker(client, bram, "POST", "/api/admin/workers", json=new)
    assert created.status_code == 201 and created.json()["max_concurrent"] == 3
    assert as_worker(client, bram, "POST", "/api/admin/workers", json=new).status_code == 422  # the name exists
    short = as_worker(client, bram, "POST", "/api/admin/workers", json={**new, "name": "dirk", "password": "kort"})
    assert short.status_code == 422 and "tekens" in short.json()["detail"]
    carla_id = created.json()["id"]
    assert client.post("/api/auth/login", json={"name": "carla", "password": new["password"]}).status_code == 200

    as_worker(client, bram, "POST", f"/api/admin/workers/{carla_id}", json={"disabled": True})
    refused = client.post("/api/auth/login", json={"name": "carla", "password": new["password"]})
    assert refused.status_code == 401 and "uitgeschakeld" in refused.json()["detail"]
    changed = as_worker(
        client,
        bram,
        "POST",
        f"/api/admin/workers/{carla_id}",
        json={"disabled": False, "password": "een heel nieuw wachtwoord"},
    )
    assert changed.status_code == 200 and changed.json()["disabled"] is False
    assert (
        client.post("/api/auth/login", json={"name": "carla", "password": "een heel nieuw wachtwoord"}).status_code
        == 200
    )

    bram_id = next(w["id"] for w in as_worker(client, bram, "GET", "/api/admin/workers").json() if w["name"] == "bram")
    assert as_worker(client, bram, "POST", f"/api/admin/workers/{bram_id}", json={"disabled": True}).status_code == 409
    assert as_worker(client, bram, "POST", f"/api/admin/workers/{bram_id}", json={"role": "worker"}).status_code == 409


def test_admins_edit_office_hours_contact_and_standard_replies(desk: tuple[TestClient, str, Path]) -> None:
    client, _, data = desk
    anna, bram = login(client, "anna"), login(client, "bram")
    assert as_worker(client, anna, "GET", "/api/admin/settings").status_code == 403
    current = as_worker(client, bram, "GET", "/api/admin/settings").json()
    assert current["opening_hours"]["monday"] == "09:00-17:00" and current["canned_replies"]

    hours = {**current["opening_hours"], "friday": "09:00-12:30", "saturday": "10:00-12:00"}
    assert as_worker(client, bram, "PUT", "/api/admin/settings/opening-hours", json=hours).status_code == 200
    wrong = as_worker(client, bram, "PUT", "/api/admin/settings/opening-hours", json={**hours, "sunday": "17:00-09:00"})
    assert wrong.status_code == 422 and "zondag" in wrong.json()["detail"]
    written = (data / "gemeente.yml").read_text(encoding="utf-8")
    assert 'friday: "09:00-12:30"' in written and 'saturday: "10:00-12:00"' in written
    assert "# This is a clearly FICTIONAL example" in written  # comments and other settings stay
    saturday_morning = dt.datetime(2026, 12, 5, 11, 0, tzinfo=ZoneInfo("Europe/Amsterdam"))
    assert client.app.state.dispatcher.hours.is_open(saturday_morning)  # type: ignore[attr-defined]  # at once
    closing = {**hours, "closed_days": "2026-12-05, 2026-12-31"}
    assert as_worker(client, bram, "PUT", "/api/admin/settings/opening-hours", json=closing).status_code == 200
    assert not client.app.state.dispatcher.hours.is_open(saturday_morning)  # type: ignore[attr-defined]  # a closing day
    misdated = as_worker(
        client, bram, "PUT", "/api/admin/settings/opening-hours", json={**hours, "closed_days": "2026-13-01"}
    )
    assert misdated.status_code == 422 and "sluitingsdag" in misdated.json()["detail"]
    assert (
        as_worker(client, bram, "GET", "/api/admin/settings").json()["opening_hours"]["closed_days"]
        == "2026-12-05, 2026-12-31"
    )

    team = {**current["wijkteam"], "phone": "010-1234567"}
    assert as_worker(client, bram, "PUT", "/api/admin/settings/wijkteam", json=team).status_code == 200
    assert 'phone: "010-1234567"' in (data / "gemeente.yml").read_text(encoding="utf-8")
    bad = as_worker(client, bram, "PUT", "/api/admin/settings/wijkteam", json={**team, "name": 'x"\ny'})
    assert bad.status_code == 422

    replies = [{"title": "Welkom", "text": "Fijn dat je er bent."}]
    assert as_worker(client, bram, "PUT", "/api/admin/settings/canned-replies", json=replies).status_code == 200
    offered = as_worker(client, anna, "GET", "/api/inbox/canned-replies").json()
    assert [r["title"] for r in offered] == ["Crisisnummers", "Welkom"]  # the crisis text always comes first


@pytest.mark.parametrize("odd", ["\x93", "\x00", "tab\there", "\u2028"])
def test_settings_refuse_characters_that_would_break_the_data_files(
    desk: tuple[TestClient, str, Path], odd: str
) -> None:
    client, _, data = desk
    bram = login(client, "bram")
    before = (data / "gemeente.yml").read_text(encoding="utf-8")
    team = as_worker(client, bram, "GET", "/api/admin/settings").json()["wijkteam"]
    refused = as_worker(client, bram, "PUT", "/api/admin/settings/wijkteam", json={**team, "address": odd})
    assert refused.status_code == 422
    reply = [{"title": "Welkom" + odd, "text": "Fijn dat je er bent."}]
    assert as_worker(client, bram, "PUT", "/api/admin/settings/canned-replies", json=reply).status_code == 422
    assert (data / "gemeente.yml").read_text(encoding="utf-8") == before
    yaml.safe_load((data / "canned_replies.yml").read_text(encoding="utf-8"))  # still loads
