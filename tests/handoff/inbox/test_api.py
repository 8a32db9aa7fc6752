"""The worker side through the real app: login, queue, atomic claim, reply, hand back, close."""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from baken_core.paths import PROJECT_ROOT
from desk.app import create_app
from handoff import auth
from handoff.config import DeskSettings
from handoff.store.db import create_engine, session_factory
from handoff.store.models import AuditLog, Role
from tests.rasa_stub import StubRasa

PASSWORD = "een lang wachtwoord"


@pytest.fixture
def desk(tmp_path: Path, stub_rasa: StubRasa) -> Iterator[tuple[TestClient, str]]:
    url = f"sqlite:///{tmp_path / 'desk.db'}"
    settings = DeskSettings(database_url=url, secret_key_file=str(tmp_path / "secret"))
    with TestClient(create_app(settings, rasa_client=stub_rasa.client)) as client:
        with session_factory(create_engine(url)).begin() as session:
            auth.create_worker(session, "anna", PASSWORD)
            auth.create_worker(session, "bram", PASSWORD, Role.admin)
        yield client, url


def citizen_says(client: TestClient, visitor: str, text: str) -> dict:
    response = client.post(
        "/api/widget/messages",
        json={"visitor_id": visitor, "client_message_id": uuid.uuid4().hex, "text": text},
    )
    assert response.status_code == 200, response.text
    return response.json()


def login(client: TestClient, name: str) -> dict[str, str]:
    response = client.post("/api/auth/login", json={"name": name, "password": PASSWORD})
    assert response.status_code == 200, response.text
    cookie = response.cookies.get(auth.COOKIE)
    assert cookie
    set_cookie = response.headers["set-cookie"].lower()
    assert "httponly" in set_cookie and "samesite=strict" in set_cookie
    return {"cookie": cookie, "csrf": response.json()["csrf_token"]}


def as_worker(client: TestClient, session: dict[str, str], method: str, path: str, **kwargs):
    client.cookies.set(auth.COOKIE, session["cookie"])
    headers = {auth.CSRF_HEADER: session["csrf"]}
    return client.request(method, path, headers=headers, **kwargs)


def test_login_is_refused_kindly(desk) -> None:
    client, _ = desk
    assert client.post("/api/auth/login", json={"name": "anna", "password": "fout"}).status_code == 401
    assert client.post("/api/auth/login", json={"name": "niemand", "password": PASSWORD}).status_code == 401
    assert client.get("/api/inbox").status_code == 401


def test_queue_claim_reply_hand_back(desk) -> None:
    client, url = desk
    visitor = uuid.uuid4().hex
    citizen_says(client, visitor, "ik heb schulden bij het CJIB")
    citizen_says(client, visitor, "ik wil met een medewerker praten")
    anna, bram = login(client, "anna"), login(client, "bram")

    inbox = as_worker(client, anna, "GET", "/api/inbox").json()
    item = inbox["waiting"][0]
    assert item["channel"] == "widget" and item["reason"] == "request_human"
    assert "ik heb schulden bij het CJIB" in item["summary"]
    conversation_id = item["conversation_id"]

    client.cookies.set(auth.COOKIE, anna["cookie"])
    assert client.post(f"/api/inbox/conversations/{conversation_id}/claim").status_code == 403  # no CSRF token
    assert as_worker(client, anna, "POST", f"/api/inbox/conversations/{conversation_id}/claim").status_code == 200
    # a double click, and a colleague a moment later: both a clear 409
    assert as_worker(client, anna, "POST", f"/api/inbox/conversations/{conversation_id}/claim").status_code == 409
    late = as_worker(client, bram, "POST", f"/api/inbox/conversations/{conversation_id}/claim")
    assert late.status_code == 409 and "al opgepakt" in late.json()["detail"]
    # only the worker who has it can reply
    assert (
        as_worker(
            client, bram, "POST", f"/api/inbox/conversations/{conversation_id}/messages", json={"text": "hoi"}
        ).status_code
        == 409
    )

    transcript = as_worker(client, anna, "GET", f"/api/inbox/conversations/{conversation_id}").json()
    assert transcript["messages"][0]["author"] == "citizen"
    assert (
        as_worker(
            client,
            anna,
            "POST",
            f"/api/inbox/conversations/{conversation_id}/messages",
            json={"text": "Hoi, ik ben Anna. Ik help je verder."},
        ).status_code
        == 201
    )
    assert (
        as_worker(
            client,
            anna,
            "POST",
            f"/api/inbox/conversations/{conversation_id}/messages",
            json={"text": "CJIB-regeling nagaan", "internal": True},
        ).status_code
        == 201
    )

    history = client.get("/api/widget/messages", headers={"X-Baken-Visitor": visitor}).json()["messages"]
    assert history[-1] == {
        "id": history[-1]["id"],
        "author": "worker",
        "text": "Hoi, ik ben Anna. Ik help je verder.",
        "buttons": None,
        "client_message_id": None,
    }
    assert all("CJIB-regeling" not in m["text"] for m in history), "internal notes never reach the citizen"

    assert as_worker(client, anna, "POST", f"/api/inbox/conversations/{conversation_id}/hand-back").status_code == 204
    answered = citizen_says(client, visitor, "hoe vraag ik zorgtoeslag aan")
    assert answered["status"] == "bot" and any("toeslagen.nl" in m["text"] for m in answered["messages"])

    with session_factory(create_engine(url))() as session:
        actions = session.scalars(select(AuditLog.action).order_by(AuditLog.id)).all()
    assert {"queue", "login", "claim", "view", "hand_back"} <= set(actions)


def test_close_with_outcome_and_a_new_conversation_after(desk) -> None:
    client, _ = desk
    visitor = uuid.uuid4().hex
    citizen_says(client, visitor, "ik wil een medewerker")
    anna = login(client, "anna")
    conversation_id = as_worker(client, anna, "GET", "/api/inbox").json()["waiting"][0]["conversation_id"]
    as_worker(client, anna, "POST", f"/api/inbox/conversations/{conversation_id}/claim")
    bad = as_worker(client, anna, "POST", f"/api/inbox/conversations/{conversation_id}/close", json={"outcome": "x"})
    assert bad.status_code == 422
    closed = as_worker(
        client,
        anna,
        "POST",
        f"/api/inbox/conversations/{conversation_id}/close",
        json={"outcome": "referred", "case_note": "naar schuldhulp"},
    )
    assert closed.status_code == 204
    assert (
        as_worker(
            client, anna, "POST", f"/api/inbox/conversations/{conversation_id}/close", json={"outcome": "resolved"}
        ).status_code
        == 409
    )
    assert citizen_says(client, visitor, "hallo")["status"] == "bot"


def test_create_user_script_reads_the_password_from_stdin(tmp_path: Path) -> None:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}"}
    script = str(PROJECT_ROOT / "scripts" / "desk")
    made = subprocess.run(
        [script, "create-user", "--role", "admin", "--name", "carla"],
        input=b"nog een lang wachtwoord\n",
        env=env,
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert made.returncode == 0, made.stderr
    again = subprocess.run(
        [script, "create-user", "--name", "carla"],
        input=b"nog een lang wachtwoord\n",
        env=env,
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert again.returncode == 1 and "al een medewerker" in again.stderr.decode()
    short = subprocess.run(
        [script, "create-user", "--name", "dirk"],
        input=b"kort\n",
        env=env,
        capture_output=True,
        timeout=120,
        check=False,
    )
    assert short.returncode == 1 and "minstens" in short.stderr.decode()


def test_ensure_demo_creates_one_demo_login(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'new' / 'demo.db'}",
        "SECRET_KEY_FILE": str(tmp_path / "secret"),
    }
    script = str(PROJECT_ROOT / "scripts" / "desk")
    first = subprocess.run([script, "ensure-demo"], env=env, capture_output=True, timeout=120, check=True).stdout
    second = subprocess.run([script, "ensure-demo"], env=env, capture_output=True, timeout=120, check=True).stdout
    assert first == second and b"naam 'demo'" in first
    password = first.decode().split("wachtwoord '")[1].split("'")[0]
    with session_factory(create_engine(env["DATABASE_URL"])).begin() as session:
        assert auth.authenticate(session, "demo", password).role is Role.admin


@pytest.fixture
def desk_on_both(database_url: str, tmp_path: Path, stub_rasa: StubRasa) -> Iterator[tuple[TestClient, dict[str, str]]]:
    """The desk on SQLite and on PostgreSQL, with anna logged in."""
    settings = DeskSettings(database_url=database_url, secret_key_file=str(tmp_path / "secret"))
    with TestClient(create_app(settings, rasa_client=stub_rasa.client)) as client:
        engine = create_engine(database_url)
        with session_factory(engine).begin() as session:
            auth.create_worker(session, "anna", PASSWORD)
        engine.dispose()
        yield client, login(client, "anna")


@pytest.mark.parametrize("huge", [2**31, 2**63, 10**30])
def test_an_id_beyond_the_database_integer_is_a_clear_4xx_not_a_500(desk_on_both, huge: int) -> None:
    # found by the schema fuzzer: PostgreSQL's INTEGER ends at 2**31 - 1, SQLite's at 2**63 - 1
    client, anna = desk_on_both
    for method, path, body in [
        ("GET", f"/api/inbox/conversations/{huge}", None),
        ("POST", f"/api/inbox/conversations/{huge}/claim", None),
        ("POST", f"/api/inbox/conversations/{huge}/messages", {"text": "hoi"}),
        ("POST", f"/api/inbox/conversations/{huge}/hand-back", None),
        ("POST", f"/api/inbox/conversations/{huge}/transfer", {"to_worker_id": 1}),
        ("POST", f"/api/inbox/conversations/{huge}/close", {"outcome": "resolved"}),
        ("POST", "/api/inbox/conversations/1/transfer", {"to_worker_id": huge}),
    ]:
        response = as_worker(client, anna, method, path, json=body)
        assert response.status_code == 422, (path, response.text)
        assert response.json()["detail"].startswith("Het verzoek klopt niet")


def test_nul_bytes_are_refused_not_a_database_error(desk_on_both) -> None:
    # found by the schema fuzzer: PostgreSQL text cannot hold \x00
    client, anna = desk_on_both
    assert client.post("/api/auth/login", json={"name": "an\x00na", "password": PASSWORD}).status_code == 422
    visitor = uuid.uuid4().hex
    citizen_says(client, visitor, "ik wil een medewerker spreken")
    conversation_id = as_worker(client, anna, "GET", "/api/inbox").json()["waiting"][0]["conversation_id"]
    assert as_worker(client, anna, "POST", f"/api/inbox/conversations/{conversation_id}/claim").status_code == 200
    path = f"/api/inbox/conversations/{conversation_id}"
    for note in (False, True):
        refused = as_worker(client, anna, "POST", f"{path}/messages", json={"text": "h\x00i", "internal": note})
        assert refused.status_code == 422, refused.text
    refused = as_worker(client, anna, "POST", f"{path}/close", json={"outcome": "resolved", "case_note": "\x00"})
    assert refused.status_code == 422, refused.text
    assert as_worker(client, anna, "POST", f"{path}/close", json={"outcome": "resolved"}).status_code == 204


def test_only_the_worker_who_has_the_chat_can_hand_it_back(desk) -> None:
    client, _ = desk
    citizen_says(client, uuid.uuid4().hex, "ik wil een medewerker spreken")
    anna, bram = login(client, "anna"), login(client, "bram")
    conversation_id = as_worker(client, anna, "GET", "/api/inbox").json()["waiting"][0]["conversation_id"]
    assert as_worker(client, anna, "POST", f"/api/inbox/conversations/{conversation_id}/claim").status_code == 200
    taken = as_worker(client, bram, "POST", f"/api/inbox/conversations/{conversation_id}/hand-back")
    assert taken.status_code == 409 and "bij jou" in taken.json()["detail"]
    transcript = as_worker(client, anna, "GET", f"/api/inbox/conversations/{conversation_id}").json()
    assert transcript["status"] == "with_worker" and transcript["worker_id"] is not None
    assert as_worker(client, anna, "POST", f"/api/inbox/conversations/{conversation_id}/hand-back").status_code == 204
