"""Workers' sessions live on the server: logout, a password reset, disabling and a role
change end them at once, idling ends them, open live streams close; cookies are Secure
whenever the desk is not reached on this machine. SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from desk.app import create_app
from handoff import auth, worker_sessions
from handoff.config import DeskSettings
from handoff.store.db import create_engine, session_factory
from handoff.store.models import Role, Worker, WorkerSession
from stack.desk import desk_server
from tests.handoff.inbox.test_api import PASSWORD, as_worker, login
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


def anna_id(client: TestClient, carla: dict[str, str]) -> int:
    people = as_worker(client, carla, "GET", "/api/admin/workers").json()
    return int(next(p["id"] for p in people if p["name"] == "anna"))


def test_a_cookie_is_refused_after_logout_even_when_replayed(desk: tuple[TestClient, str]) -> None:
    client, _ = desk
    anna, other = login(client, "anna"), login(client, "anna")  # two browsers
    assert as_worker(client, anna, "GET", "/api/inbox").status_code == 200
    assert as_worker(client, anna, "POST", "/api/auth/logout").status_code == 204
    replayed = as_worker(client, anna, "GET", "/api/inbox")
    assert replayed.status_code == 401 and "Log opnieuw in" in replayed.json()["detail"]
    assert as_worker(client, other, "GET", "/api/inbox").status_code == 200, "the other browser stays logged in"


@pytest.mark.parametrize("change", [{"password": "een heel nieuw wachtwoord"}, {"disabled": True}, {"role": "admin"}])
def test_a_reset_disable_or_role_change_ends_every_session(desk: tuple[TestClient, str], change: dict) -> None:
    client, _ = desk
    carla = login(client, "carla")
    sessions = [login(client, "anna"), login(client, "anna")]
    worker = anna_id(client, carla)
    assert (
        as_worker(client, carla, "POST", f"/api/admin/workers/{worker}", json={"max_concurrent": 3}).status_code == 200
    )
    assert all(as_worker(client, s, "GET", "/api/inbox").status_code == 200 for s in sessions), "a limit ends nothing"
    assert as_worker(client, carla, "POST", f"/api/admin/workers/{worker}", json=change).status_code == 200
    assert [as_worker(client, s, "GET", "/api/inbox").status_code for s in sessions] == [401, 401]
    assert as_worker(client, carla, "GET", "/api/inbox").status_code == 200


def test_a_session_idle_for_an_hour_ends(desk: tuple[TestClient, str]) -> None:
    client, url = desk
    anna = login(client, "anna")
    engine = create_engine(url)
    with session_factory(engine).begin() as session:
        session.execute(
            update(WorkerSession).values(last_seen_at=dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=61))
        )
    assert as_worker(client, anna, "GET", "/api/inbox").status_code == 401
    with session_factory(engine)() as session:
        assert session.scalars(select(WorkerSession.revoked_because)).all() == ["idle"]
    engine.dispose()


def test_cookies_are_secure_unless_the_desk_is_reached_on_this_machine(desk: tuple[TestClient, str]) -> None:
    client, _ = desk
    remote = client.post("/api/auth/login", json={"name": "anna", "password": PASSWORD})  # host "testserver"
    assert "secure" in remote.headers["set-cookie"].lower()
    local = client.post(
        "http://localhost/api/auth/login", json={"name": "anna", "password": PASSWORD}
    )  # a developer's machine without TLS
    assert "secure" not in local.headers["set-cookie"].lower()


def test_an_open_inbox_stream_closes_when_its_session_is_revoked(tmp_path: Path, stub_rasa: StubRasa) -> None:
    with desk_server(tmp_path, "http://rasa.stub", rasa_client=stub_rasa.client) as (base, url):
        with session_factory(create_engine(url)).begin() as session:
            auth.create_worker(session, "anna", PASSWORD)
        with httpx.Client(base_url=base, timeout=10) as browser:
            csrf = browser.post("/api/auth/login", json={"name": "anna", "password": PASSWORD}).json()["csrf_token"]
            seen: list[str] = []
            ended = threading.Event()

            def listen() -> None:
                with browser.stream("GET", "/api/inbox/stream", timeout=30) as response:
                    for line in response.iter_lines():
                        seen.append(line)
                ended.set()

            listener = threading.Thread(target=listen, daemon=True)
            listener.start()
            deadline = dt.datetime.now() + dt.timedelta(seconds=10)
            while "event: hello" not in seen and dt.datetime.now() < deadline:
                threading.Event().wait(0.05)
            assert "event: hello" in seen
            with httpx.Client(base_url=base, timeout=10, cookies=browser.cookies) as elsewhere:
                assert elsewhere.post("/api/auth/logout", headers={auth.CSRF_HEADER: csrf}).status_code == 204
            assert ended.wait(5), "the stream did not close"
            assert "event: logged_out" in seen


def test_rows_of_sessions_ended_more_than_a_day_ago_go(sessions: sessionmaker[Session]) -> None:
    now = dt.datetime.now(dt.timezone.utc)
    with sessions.begin() as session:
        worker = Worker(name="anna", password_hash="x")
        session.add(worker)
        session.flush()
        worker_sessions.start(session, worker.id, "old-nonce", now - dt.timedelta(days=2))
        worker_sessions.start(session, worker.id, "new-nonce", now + dt.timedelta(hours=9))
    with sessions.begin() as session:
        assert worker_sessions.purge_old(session, now) == 1
        assert worker_sessions.check(session, "new-nonce", now) == "ok"
        assert worker_sessions.check(session, "old-nonce", now) == "gone"
