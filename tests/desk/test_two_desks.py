"""Two desk processes on one PostgreSQL database (issue 13), as `make run-scaled` runs them:
a widget stream on process A hears a worker's reply sent through process B; a crisis that
reaches A alerts an inbox open on B within 2 s; a letter a citizen sends on Telegram through
A is served to a worker by B; a periodic job runs once between them. Telegram is the only
fake: a local Bot API server (tests/bot/fake_telegram.py), in webhook mode."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from baken_core.crisis import is_crisis_reply
from baken_core.rasa_endpoints import tracker_database
from handoff import auth
from handoff.store.db import create_engine, session_factory
from handoff.store.models import JobLease, Message
from stack.desk import DeskProcess, widget_stream_path
from stack.processes import MODEL, free_port, wait_until
from stack.rasa import RasaServer, action_server
from tests.bot.fake_telegram import FakeBotApi
from tests.databases import temporary_postgres_database

pytestmark = [pytest.mark.faults, pytest.mark.rasa]

PASSWORD = "een lang wachtwoord voor de test"
SCALED = {"DESK_PROCESSES": "2", "SECRET_KEY": "test-" + "k" * 40, "ATTACHMENTS_STORE": "database"}
TOKEN = "123456:TWO-desks"
WEBHOOK_SECRET = "two-desks-webhook-secret"
PDF = b"%PDF-1.7\n" + b"aanmaning van de deurwaarder " * 40


class Stream:
    """Reads one server-sent-events stream in a thread: (arrival time, event, data)."""

    def __init__(self, client: httpx.Client, url: str) -> None:
        self.events: list[tuple[float, str, dict[str, Any]]] = []
        self._client, self._url = client, url
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        kind = ""
        with self._client.stream("GET", self._url, timeout=httpx.Timeout(10, read=None)) as response:
            for line in response.iter_lines():
                if line.startswith("event: "):
                    kind = line[7:]
                elif line.startswith("data: "):
                    self.events.append((time.monotonic(), kind, json.loads(line[6:])))

    def first(self, predicate: Any, timeout: float = 10.0) -> tuple[float, str, dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for item in list(self.events):
                if predicate(item[1], item[2]):
                    return item
            time.sleep(0.02)
        raise AssertionError(f"no such event in {[e[1] for e in self.events]}")


@pytest.fixture
def telegram() -> Iterator[FakeBotApi]:
    fake = FakeBotApi(TOKEN, free_port())
    fake.start()
    yield fake
    fake.stop()


@pytest.fixture
def two_desks(tmp_path: Path, telegram: FakeBotApi) -> Iterator[tuple[DeskProcess, DeskProcess, str]]:
    assert MODEL.exists(), "no trained model: run `make train`"
    settings = {
        **SCALED,
        "TELEGRAM_TOKEN": TOKEN,
        "TELEGRAM_API_URL": telegram.url,
        "TELEGRAM_WEBHOOK_URL": "https://baken.example",
        "TELEGRAM_WEBHOOK_SECRET": WEBHOOK_SECRET,
    }
    with temporary_postgres_database() as url, action_server(tmp_path / "actions") as actions:
        rasa = RasaServer(MODEL, tmp_path / "rasa", actions, tracker=tracker_database(url).rasa_config())
        desks = [DeskProcess(url, rasa.url, tmp_path / f"desk-{n}", **settings) for n in ("a", "b")]
        try:
            rasa.start(wait=False)
            for desk in desks:
                desk.folder.mkdir()
            starting = [threading.Thread(target=d.start) for d in desks]  # both migrate at once
            for thread in starting:
                thread.start()
            for thread in starting:
                thread.join()
            rasa.wait_ready()
            yield desks[0], desks[1], url
        finally:
            for desk in desks:
                desk.kill()
            rasa.kill()


def telegram_update(update_id: int, **fields: Any) -> dict[str, Any]:
    chat = {"id": 555013, "type": "private", "first_name": "Sam"}
    message = {"message_id": update_id, "date": int(time.time()), "chat": chat, "from": {**chat, "is_bot": False}}
    return {"update_id": update_id, "message": {**message, **fields}}


def test_a_reply_and_a_crisis_cross_from_one_desk_process_to_the_other(
    two_desks: tuple[DeskProcess, DeskProcess, str], telegram: FakeBotApi
) -> None:
    a, b, url = two_desks
    engine = create_engine(url)
    with session_factory(engine).begin() as session:
        auth.create_worker(session, "anna", PASSWORD)
    worker = httpx.Client(base_url=b.url)
    login = worker.post("/api/auth/login", json={"name": "anna", "password": PASSWORD})
    assert login.status_code == 200, login.text
    csrf = {auth.CSRF_HEADER: login.json()["csrf_token"]}
    inbox_on_b = Stream(worker, "/api/inbox/stream")
    inbox_on_b.first(lambda kind, _data: kind == "hello")

    # a crisis through A: the inbox on B hears it within 2 s of A's answer
    visitor = "twodesks-" + uuid.uuid4().hex[:16]
    answer = a.say(visitor, f"{visitor}-1", "ik wil niet meer leven, ik zie geen uitweg meer")
    answered_at = time.monotonic()
    assert any(is_crisis_reply(m["text"]) for m in answer["messages"]), answer
    arrived, _kind, alert = inbox_on_b.first(lambda kind, _data: kind == "crisis")
    assert arrived - answered_at <= 2.0, f"crisis alert after {arrived - answered_at:.2f} s"
    conversation_id = alert["conversation_id"]

    # the citizen's widget stream is on A; the worker claims and replies through B
    widget_on_a = Stream(httpx.Client(base_url=a.url), widget_stream_path(a.url, visitor))
    widget_on_a.first(lambda kind, _data: kind == "status")
    claimed = worker.post(f"/api/inbox/conversations/{conversation_id}/claim", headers=csrf)
    assert claimed.status_code == 200, claimed.text
    text = "Ik ben Anna van het wijkteam. Ik ben er nu voor je."
    sent = worker.post(
        f"/api/inbox/conversations/{conversation_id}/messages",
        headers=csrf,
        json={"text": text, "client_id": uuid.uuid4().hex},
    )
    assert sent.status_code == 201, sent.text
    sent_at = time.monotonic()
    arrived, _kind, message = widget_on_a.first(lambda kind, data: kind == "message" and data.get("text") == text)
    assert arrived - sent_at <= 2.0
    assert [e for e in widget_on_a.events if e[1] == "message" and e[2].get("text") == text] == [
        (arrived, "message", message)
    ], "the reply reached the widget once"

    # a letter on Telegram, through A's webhook; a worker on B opens it
    secret = {"X-Telegram-Bot-Api-Secret-Token": WEBHOOK_SECRET}
    for update in (
        telegram_update(1, text="ik wil een medewerker spreken"),
        telegram_update(2, document=telegram.document(PDF, "Aanmaning.pdf", "application/pdf")),
    ):
        assert httpx.post(f"{a.url}/telegram/webhook", json=update, headers=secret, timeout=60).status_code == 200

    def letter() -> str | None:
        with session_factory(engine)() as session:
            files = session.scalars(select(Message.attachments).where(Message.attachments.is_not(None))).all()
        return str(files[0][0]["id"]) if files and files[0] else None

    wait_until(lambda: letter() is not None, 30, "the letter stored")
    with session_factory(engine)() as session:
        telegram_conversation = session.scalars(
            select(Message.conversation_id).where(Message.attachments.is_not(None))
        ).first()
    assert worker.get(f"/api/inbox/attachments/{letter()}").status_code == 403, "not hers until she claims it"
    claimed = worker.post(f"/api/inbox/conversations/{telegram_conversation}/claim", headers=csrf)
    assert claimed.status_code == 200, claimed.text
    served = worker.get(f"/api/inbox/attachments/{letter()}")
    assert served.status_code == 200 and served.content == PDF
    assert httpx.get(f"{b.url}/api/inbox/attachments/{letter()}").status_code == 401, "only for logged-in workers"

    # periodic work: the hourly retention ran once between the two processes, not in each
    with session_factory(engine)() as session:
        wait_until(lambda: session.get(JobLease, "tracker retention") is not None, 10, "the retention job")
        runs = session.scalars(select(JobLease.runs).where(JobLease.name == "tracker retention")).one()
    assert runs == 1
    engine.dispose()
