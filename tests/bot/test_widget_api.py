"""The widget's JSON API through the real ASGI app, a scripted Rasa (tests/rasa_stub.py) and
SQLite (PostgreSQL too, where the database makes a difference)."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from starlette.requests import Request

from bot import widget_tickets
from desk.app import create_app
from handoff import auth, sse
from handoff.config import DeskSettings
from handoff.store import conversations as convs
from handoff.store.db import MAX_ID, create_engine, session_factory
from handoff.store.models import Channel, Conversation, Message, Outcome
from stack.desk import desk_server, widget_stream_path
from stack.processes import free_port
from tests.rasa_stub import StubRasa


@pytest.fixture
def client(tmp_path: Path, stub_rasa: StubRasa) -> Iterator[TestClient]:
    settings = DeskSettings(database_url=f"sqlite:///{tmp_path / 'desk.db'}", secret_key_file=str(tmp_path / "secret"))
    app = create_app(settings, rasa_client=stub_rasa.client)
    with TestClient(app) as test_client:
        yield test_client


def visitor() -> str:
    return uuid.uuid4().hex


def read_events(lines: Iterator[str], until: str) -> list[tuple[str, dict]]:
    """Server-sent events from an open stream's lines, up to and including the first of kind `until`."""
    events: list[tuple[str, dict]] = []
    kind = ""
    for line in lines:
        if line.startswith("event: "):
            kind = line.removeprefix("event: ")
        elif line.startswith("data: "):
            events.append((kind, json.loads(line.removeprefix("data: "))))
            if kind == until:
                return events
    raise AssertionError(f"the stream ended before a {until} event: {events}")


def test_the_live_stream_sends_the_history_then_a_workers_reply(tmp_path: Path, stub_rasa: StubRasa) -> None:
    """Over a real HTTP server (uvicorn): the stream brings what was said, then what happens next."""
    who = visitor()
    with (
        desk_server(tmp_path, "http://rasa.stub", rasa_client=stub_rasa.client) as (base, url),
        httpx.Client(base_url=base, timeout=10) as web,
    ):
        message = {"visitor_id": who, "client_message_id": "m1", "text": "ik wil een medewerker spreken"}
        assert web.post("/api/widget/messages", json=message).status_code == 200
        with web.stream("GET", widget_stream_path(base, who)) as response:
            live = response.iter_lines()
            first = read_events(live, until="status")
            assert [data["author"] for kind, data in first if kind == "message"][:1] == ["citizen"]
            assert first[-1][1]["status"] == "queued"
            with session_factory(create_engine(url)).begin() as session:
                worker = auth.create_worker(session, "anna", "een lang wachtwoord")
                conversation_id = session.scalars(select(Conversation.id)).one()
                convs.claim(session, conversation_id, worker)
                worker_id = worker.id
            # the reply goes out as the inbox sends it: stored, then announced on the desk's bus
            web.post("/api/auth/login", json={"name": "anna", "password": "een lang wachtwoord"})
            csrf = web.get("/api/auth/me").json()["csrf_token"]
            sent = web.post(
                f"/api/inbox/conversations/{conversation_id}/messages",
                json={"text": "Hoi, ik ben Anna."},
                headers={auth.CSRF_HEADER: csrf},
            )
            assert sent.status_code == 201, (sent.text, worker_id)
            later = read_events(live, until="message")
            assert later[-1][1]["text"] == "Hoi, ik ben Anna." and later[-1][1]["author"] == "worker"


def test_send_answer_and_resume_from_history(client: TestClient) -> None:
    who = visitor()
    sent = client.post(
        "/api/widget/messages",
        json={
            "visitor_id": who,
            "client_message_id": "m1",
            "text": "hoe vraag ik huurtoeslag aan",
            "source": "huisarts",
        },
    )
    assert sent.status_code == 200, sent.text
    body = sent.json()
    assert body["status"] == "bot" and not body["duplicate"]
    assert body["messages"][0]["author"] == "citizen"
    assert any("toeslagen.nl" in m["text"] for m in body["messages"])
    # a page reload: the whole history, in order, nothing twice
    history = client.get("/api/widget/messages", headers={"X-Baken-Visitor": who}).json()
    assert [m["id"] for m in history["messages"]] == [m["id"] for m in body["messages"]]
    # a network drop: the same message resent is recognised, not answered twice
    again = client.post("/api/widget/messages", json={"visitor_id": who, "client_message_id": "m1", "text": "x"})
    assert again.json()["duplicate"] is True
    assert len(client.get("/api/widget/messages", headers={"X-Baken-Visitor": who}).json()["messages"]) == len(
        body["messages"]
    )
    after = body["messages"][-1]["id"]
    assert (
        client.get("/api/widget/messages", params={"after": after}, headers={"X-Baken-Visitor": who}).json()["messages"]
        == []
    )


@pytest.mark.parametrize(
    "payload",
    [
        {"visitor_id": "short", "client_message_id": "m1", "text": "hoi"},
        {"visitor_id": "a" * 32, "client_message_id": "m1", "text": "x" * 10_001},
        {"visitor_id": "a" * 32, "client_message_id": "<script>", "text": "hoi"},
        {"visitor_id": "a" * 32},
    ],
)
def test_bad_requests_get_a_clear_4xx(client: TestClient, payload: dict) -> None:
    response = client.post("/api/widget/messages", json=payload)
    assert response.status_code == 422
    assert response.json()["detail"].startswith("Het verzoek klopt niet")


def test_malformed_json_is_a_4xx_not_a_500(client: TestClient) -> None:
    response = client.post("/api/widget/messages", content=b"{not json", headers={"content-type": "application/json"})
    assert response.status_code == 422


def test_health_and_openapi(client: TestClient) -> None:
    health = client.get("/healthz").json()
    assert health == {
        "desk": "ok",
        "database": "ok",
        "rasa": "ready",
        "ready": True,
        "waiting_for_answer": 0,
        "oldest_waiting_s": None,
        "deliveries_pending": 0,
        "deliveries_failed": 0,
    }
    spec = client.get("/openapi.json").json()
    assert "/api/widget/messages" in spec["paths"]


def test_health_reports_rasa_down(tmp_path: Path) -> None:
    app = create_app(
        DeskSettings(
            database_url=f"sqlite:///{tmp_path / 'd.db'}",
            rasa_url=f"http://127.0.0.1:{free_port()}",
            secret_key_file=str(tmp_path / "secret"),
        )
    )
    with TestClient(app) as client:
        health = client.get("/healthz").json()
        assert health["rasa"] == "down" and health["ready"] is False


@pytest.fixture
def client_on_both(database_url: str, tmp_path: Path, stub_rasa: StubRasa) -> Iterator[TestClient]:
    settings = DeskSettings(database_url=database_url, secret_key_file=str(tmp_path / "secret"))
    with TestClient(create_app(settings, rasa_client=stub_rasa.client)) as test_client:
        yield test_client


def test_nul_bytes_in_a_citizen_message_are_dropped_not_a_500(client_on_both: TestClient) -> None:
    # found by the schema fuzzer: PostgreSQL text cannot hold \x00; the message is kept without it
    who = visitor()
    sent = client_on_both.post(
        "/api/widget/messages", json={"visitor_id": who, "client_message_id": "m1", "text": "hal\x00lo"}
    )
    assert sent.status_code == 200, sent.text
    assert sent.json()["messages"][0]["text"] == "hallo"


@pytest.mark.parametrize("after", [2**31, 2**63])
def test_history_after_an_id_beyond_the_database_integer_is_a_4xx(client_on_both: TestClient, after: int) -> None:
    who = visitor()
    sent = client_on_both.post(
        "/api/widget/messages", json={"visitor_id": who, "client_message_id": "m1", "text": "hoi"}
    )
    assert sent.status_code == 200, sent.text
    response = client_on_both.get("/api/widget/messages", params={"after": after}, headers={"X-Baken-Visitor": who})
    assert response.status_code == 422, response.text


@pytest.mark.parametrize(
    ("header", "expected"), [("42", 42), ("²", 7), ("9" * 18, MAX_ID), ("9" * 30, 7), ("", 7), ("-1", 7)]
)
def test_a_strange_last_event_id_is_ignored_or_capped_not_a_500(header: str, expected: int) -> None:
    # "²".isdigit() is True but int("²") raises; ids beyond the database INTEGER overflow it
    request = Request({"type": "http", "headers": [(b"last-event-id", header.encode("latin-1"))]})
    assert sse.last_event_id(request, 7) == expected


def test_the_chat_frame_may_be_embedded_by_the_configured_sites_only_and_no_api_answers_another_site(
    tmp_path: Path, stub_rasa: StubRasa
) -> None:
    """The chat runs in a frame on the desk's origin (its visitor id in the desk's storage, not
    the host site's): the frame's CSP names who may embed it, and since the widget API is
    called from that frame only, no API (widget or inbox) answers another site."""
    settings = DeskSettings(
        database_url=f"sqlite:///{tmp_path / 'desk.db'}",
        secret_key_file=str(tmp_path / "secret"),
        widget_origins="https://www.huisarts-voorbeeld.example, https://www.gemeente-voorbeeld.example/, bad origin;x",
    )
    with TestClient(create_app(settings, rasa_client=stub_rasa.client)) as client:
        frame = client.get(
            "/widget/frame", params={"source": "huisarts", "host": "https://www.huisarts-voorbeeld.example"}
        )
        assert frame.status_code == 200 and frame.headers["content-type"].startswith("text/html")
        policy = dict(
            part.strip().split(" ", 1) for part in frame.headers["content-security-policy"].split(";") if part.strip()
        )
        assert policy["frame-ancestors"].split() == [
            "'self'",
            "https://www.huisarts-voorbeeld.example",
            "https://www.gemeente-voorbeeld.example",
        ]  # the malformed entry is left out, not pasted into the policy
        assert policy["script-src"] == "'self'" and policy["connect-src"] == "'self'"
        assert "x-frame-options" not in frame.headers  # frame-ancestors decides
        assert 'data-origins="https://www.huisarts-voorbeeld.example https://www.gemeente-voorbeeld.example"' in (
            frame.text
        )
        assert "/static/widget_chat.js" in frame.text and "<script>" not in frame.text  # no inline script
        origin = {"Origin": "https://www.huisarts-voorbeeld.example"}
        preflight = client.options(
            "/api/widget/messages",
            headers={
                **origin,
                "Access-Control-Request-Method": "GET",
                "Access-Control-Request-Headers": "x-baken-visitor",
            },
        )
        assert "access-control-allow-origin" not in preflight.headers
        history = client.get("/api/widget/messages", headers={**origin, "X-Baken-Visitor": visitor()})
        assert "access-control-allow-origin" not in history.headers  # not even a configured host site
        inbox = client.get("/api/inbox", headers=origin)
        assert "access-control-allow-origin" not in inbox.headers  # workers' data never to another site
        _pages_are_locked_down(client)


def test_without_widget_origins_only_the_desks_own_pages_embed_the_frame(client: TestClient) -> None:
    policy = client.get("/widget/frame").headers["content-security-policy"]
    assert "frame-ancestors 'self';" in policy
    assert "frame-ancestors 'none'" in client.get("/demo").headers["content-security-policy"]


def test_the_visitor_id_never_goes_in_a_url_and_opens_only_the_current_conversation(client: TestClient) -> None:
    who = visitor()
    assert client.get("/api/widget/messages", params={"visitor_id": who}).status_code == 422  # a header, not a query
    assert client.post("/api/widget/stream-ticket", headers={"X-Baken-Visitor": who}).status_code == 404
    client.post("/api/widget/messages", json={"visitor_id": who, "client_message_id": "m1", "text": "eerste gesprek"})
    with client.app.state.desk.sessions.begin() as session:  # type: ignore[attr-defined]
        conversation = session.scalars(select(Conversation)).one()
        convs.close(session, conversation, None, Outcome.resolved)
    client.post("/api/widget/messages", json={"visitor_id": who, "client_message_id": "m2", "text": "tweede gesprek"})
    shown = client.get("/api/widget/messages", headers={"X-Baken-Visitor": who}).json()["messages"]
    assert shown[0]["text"] == "tweede gesprek" and all(m["text"] != "eerste gesprek" for m in shown)


def test_a_stream_ticket_is_signed_and_short_lived(client: TestClient) -> None:
    who = visitor()
    client.post("/api/widget/messages", json={"visitor_id": who, "client_message_id": "m1", "text": "hoi"})
    ticket = client.post("/api/widget/stream-ticket", headers={"X-Baken-Visitor": who}).json()
    assert ticket["expires_in"] == widget_tickets.TICKET_S
    key = client.app.state.desk.secret_key  # type: ignore[attr-defined]
    citizen_id = widget_tickets.read(key, ticket["ticket"])
    assert citizen_id is not None
    assert widget_tickets.read(key, ticket["ticket"], now=time.time() + widget_tickets.TICKET_S + 1) is None
    forged = f"{citizen_id + 1}.{ticket['ticket'].split('.', 1)[1]}"  # another citizen, same signature
    assert widget_tickets.read(key, forged) is None
    expired = widget_tickets.issue(key, citizen_id, now=time.time() - 120)
    assert client.get("/api/widget/stream", params={"ticket": expired}).status_code == 401
    assert client.get("/api/widget/stream", params={"ticket": forged}).status_code == 401


def _pages_are_locked_down(client: TestClient) -> None:
    page = client.get("/inbox")
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY" and page.headers["x-content-type-options"] == "nosniff"
    widget = client.get("/static/widget.js")
    assert widget.status_code == 200 and "x-frame-options" not in widget.headers
    loader = widget.text
    assert "/widget/frame" in loader and "localStorage.setItem" not in loader  # the host page keeps nothing
    for name in ("widget_chat.js", "widget.css", "widget_host.css"):
        assert client.get(f"/static/{name}").status_code == 200


def test_wis_mijn_gesprek_erases_everything_of_the_visitor_on_the_server(client_on_both: TestClient) -> None:
    who, other = visitor(), visitor()
    for visitor_id, text in ((who, "ik wil een medewerker spreken over mijn schulden"), (other, "hoi")):
        sent = client_on_both.post(
            "/api/widget/messages", json={"visitor_id": visitor_id, "client_message_id": "m1", "text": text}
        )
        assert sent.status_code == 200, sent.text
    app = client_on_both.app
    sessions = app.state.desk.sessions  # type: ignore[attr-defined]
    with sessions() as session:
        assert convs.find_citizen(session, Channel.widget, who) is not None

    erased = client_on_both.post("/api/widget/erase", json={"visitor_id": who})
    assert erased.status_code == 200 and erased.json()["erased"] is True
    assert "gewist" in erased.json()["text"]
    assert client_on_both.get("/api/widget/messages", headers={"X-Baken-Visitor": who}).json() == {
        "status": None,
        "queue_text": None,
        "messages": [],
    }
    with sessions() as session:
        assert convs.find_citizen(session, Channel.widget, who) is None
        texts = session.scalars(select(Message.text)).all()
        assert convs.find_citizen(session, Channel.widget, other) is not None
    assert texts and not any("schulden" in t for t in texts)
    again = client_on_both.post("/api/widget/erase", json={"visitor_id": who})
    assert again.status_code == 200 and again.json()["erased"] is False
    assert client_on_both.post("/api/widget/erase", json={"visitor_id": "kort"}).status_code == 422


def test_bidi_and_zero_width_characters_are_not_stored(client: TestClient) -> None:
    who = visitor()
    sent = client.post(
        "/api/widget/messages",
        json={"visitor_id": who, "client_message_id": "m1", "text": "mijn \u202eruuh\u202c is te\u200b hoog\nen nu?"},
    )
    assert sent.status_code == 200, sent.text
    assert sent.json()["messages"][0]["text"] == "mijn ruuh is te hoog\nen nu?"
