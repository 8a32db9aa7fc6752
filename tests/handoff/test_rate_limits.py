"""Limits that keep one abuser from hurting everyone (handoff/rate_limits.py), through the real
app with a scripted Rasa: a kind Dutch 429 that loses nothing already sent, a crisis message
that always gets the crisis reply, login throttling with failed attempts audited, live
streams per client, and request bodies refused before parsing."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from desk.app import create_app
from handoff import auth
from handoff.config import DeskSettings
from handoff.rate_limits import RateLimits, StreamSlots, per_ip_key
from handoff.store.db import create_engine, session_factory
from handoff.store.models import AuditLog, Message
from stack.desk import desk_server, widget_stream_path
from tests.handoff.inbox.test_api import PASSWORD
from tests.rasa_stub import StubRasa


def settings(tmp_path: Path, **limits: Any) -> DeskSettings:
    return DeskSettings(
        database_url=f"sqlite:///{tmp_path / 'desk.db'}", secret_key_file=str(tmp_path / "secret"), **limits
    )


@pytest.fixture
def strict(tmp_path: Path, stub_rasa: StubRasa) -> Iterator[TestClient]:
    config = settings(
        tmp_path,
        limit_messages_per_citizen="3/minute",
        limit_new_citizens_per_ip="3/hour",
        limit_failed_logins_per_name="3/15 minutes",
        max_request_bytes=4096,
    )
    with TestClient(create_app(config, rasa_client=stub_rasa.client)) as client:
        with session_factory(create_engine(config.database_url)).begin() as session:
            auth.create_worker(session, "anna", PASSWORD)
        yield client


def send(client: TestClient, visitor: str, text: str, message_id: str | None = None) -> httpx.Response:
    body = {"visitor_id": visitor, "client_message_id": message_id or uuid.uuid4().hex, "text": text}
    return client.post("/api/widget/messages", json=body)


def stored(client: TestClient) -> int:
    with client.app.state.desk.sessions() as session:  # type: ignore[attr-defined]
        return int(session.scalar(select(func.count()).select_from(Message).where(Message.author == "citizen")) or 0)


def test_a_citizen_over_the_limit_gets_a_kind_429_and_a_crisis_still_gets_through(strict: TestClient) -> None:
    visitor = uuid.uuid4().hex
    assert [send(strict, visitor, f"vraag {n}", f"m{n}").status_code for n in range(3)] == [200, 200, 200]
    refused = send(strict, visitor, "nog een vraag")
    assert refused.status_code == 429
    assert "Je stuurt veel berichten kort na elkaar" in refused.json()["detail"]
    assert "113" in refused.json()["detail"]
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert stored(strict) == 3, "the refused message was not stored: the widget keeps it and sends it again"
    again = send(strict, visitor, "vraag 0", "m0")  # a resend after a network drop is not a new message
    assert again.status_code == 200 and again.json()["duplicate"] is True
    crisis = send(strict, visitor, "ik wil niet meer leven")
    assert crisis.status_code == 200, "a crisis message is never refused by a limit"
    assert any("113" in m["text"] for m in crisis.json()["messages"])


def test_new_citizens_per_address_are_limited(strict: TestClient) -> None:
    first = uuid.uuid4().hex
    assert [send(strict, v, "hoi").status_code for v in (first, uuid.uuid4().hex, uuid.uuid4().hex)] == [200] * 3
    assert send(strict, uuid.uuid4().hex, "hoi").status_code == 429  # a fourth new visitor from one address
    assert send(strict, first, "en nu?").status_code == 200  # someone already known goes on


def test_failed_logins_are_throttled_and_audited(strict: TestClient) -> None:
    for _ in range(3):
        assert strict.post("/api/auth/login", json={"name": "anna", "password": "fout fout fout"}).status_code == 401
    right = strict.post("/api/auth/login", json={"name": "anna", "password": PASSWORD})
    assert right.status_code == 429 and "Te veel mislukte pogingen" in right.json()["detail"]
    assert strict.post("/api/auth/login", json={"name": "Anna ", "password": PASSWORD}).status_code == 429
    with strict.app.state.desk.sessions() as session:  # type: ignore[attr-defined]
        failed = session.scalars(select(AuditLog).where(AuditLog.action == "login_failed")).all()
    assert len(failed) == 3 and failed[0].detail == {"name": "anna"} and failed[0].worker_id is not None


def test_a_body_too_big_is_refused_before_parsing(strict: TestClient) -> None:
    json_type = {"content-type": "application/json"}
    declared = strict.post("/api/widget/messages", content=b"{" + b" " * 5000 + b"}", headers=json_type)
    assert declared.status_code == 413 and "te groot" in declared.json()["detail"]

    def chunks() -> Iterator[bytes]:
        for _ in range(10):
            yield b" " * 1000

    chunked = strict.post("/api/widget/messages", content=chunks(), headers=json_type)
    assert chunked.status_code == 413
    assert send(strict, uuid.uuid4().hex, "een gewone vraag").status_code == 200


def test_loopback_addresses_are_not_counted_per_ip() -> None:
    assert per_ip_key("127.0.0.1") is None and per_ip_key("::1") is None
    assert per_ip_key("203.0.113.7") == "203.0.113.7" and per_ip_key("testclient") == "testclient"


def test_stream_slots_count_per_key_and_free_on_exit() -> None:
    slots = StreamSlots(per_visitor=1, per_ip=2, per_worker=1)
    with slots.hold(("visitor:a", 1), ("ip:x", 2)) as first, slots.hold(("visitor:b", 1), ("ip:x", 2)) as second:
        assert first and second
        with slots.hold(("visitor:c", 1), ("ip:x", 2)) as third:
            assert not third  # the address has two open
        with slots.hold(("visitor:a", 1)) as again:
            assert not again
    assert slots.open == {}


def test_a_visitor_with_too_many_open_streams_is_told_to_come_back(tmp_path: Path, stub_rasa: StubRasa) -> None:
    visitor = uuid.uuid4().hex
    with (
        desk_server(tmp_path, "http://rasa.stub", rasa_client=stub_rasa.client, limit_streams_per_visitor=1) as (
            base,
            _,
        ),
        httpx.Client(base_url=base, timeout=10) as web,
    ):
        assert (
            web.post(
                "/api/widget/messages", json={"visitor_id": visitor, "client_message_id": "m1", "text": "hoi"}
            ).status_code
            == 200
        )
        opened = threading.Event()

        def first_stream() -> None:
            with web.stream("GET", widget_stream_path(base, visitor)) as response:
                for line in response.iter_lines():
                    if line.startswith("event: status"):
                        opened.set()
                    if line.startswith("event: bye"):
                        return

        threading.Thread(target=first_stream, daemon=True).start()
        assert opened.wait(10)
        with web.stream("GET", widget_stream_path(base, visitor)) as second:
            lines = []
            for line in second.iter_lines():
                lines.append(line)
                if line.startswith("event: busy"):
                    break
        assert "retry: 60000" in lines and "event: busy" in lines
        time.sleep(0.1)


def test_limits_let_everything_through_when_redis_is_away(tmp_path: Path) -> None:
    limits = RateLimits(
        settings(tmp_path, limits_storage_url="redis://127.0.0.1:1/0", limit_messages_per_citizen="1/minute")
    )
    assert [limits.citizen_message("widget", "v", "203.0.113.7", new_citizen=True) for _ in range(3)] == [None] * 3
    assert limits.login_allowed("anna", "203.0.113.7") is None
    limits.login_failed("anna", "203.0.113.7")  # no error


def test_limits_count_together_in_redis(tmp_path: Path) -> None:
    """Two desk processes share one count when LIMITS_STORAGE_URL points at Redis (this machine's)."""
    url = "redis://127.0.0.1:6379/3"
    a, b = (RateLimits(settings(tmp_path, limits_storage_url=url, limit_messages_per_citizen="2/minute")) for _ in "ab")
    a.reset()
    who = uuid.uuid4().hex
    assert a.citizen_message("widget", who, None, new_citizen=False) is None
    assert b.citizen_message("widget", who, None, new_citizen=False) is None
    assert a.citizen_message("widget", who, None, new_citizen=False) is not None
    a.reset()
