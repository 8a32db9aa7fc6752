"""Two desk processes on one PostgreSQL database keep one conversation in order (issue:
conversation-ordered claims, handoff/store/processing.py): process A is stopped (SIGSTOP)
while its message 1 is with the assistant; the citizen's message 2 reaches process B, which
stores it but may not send it on before message 1; once A's lease has run out, B's recovery
sweep answers message 1 and then message 2, never two of the conversation's messages at
the assistant at once. The assistant is the scripted stub (tests/rasa_stub.py) behind a
real HTTP server: what is under test is who asks it what, and when."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import suppress
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from handoff.store.db import create_engine
from handoff.store.models import Message, Processing
from handoff.store.processing import LEASE_S
from stack.desk import DeskProcess
from stack.processes import free_port
from tests.databases import temporary_postgres_database
from tests.rasa_stub import StubRasa

pytestmark = [pytest.mark.faults]

SCALED = {"DESK_PROCESSES": "2", "SECRET_KEY": "test-" + "k" * 40, "ATTACHMENTS_STORE": "database"}


class RasaOverHttp:
    """The stub on a port: records each message (in arrival order) and how many of one
    sender's messages it had open at once; holds a text while it is in `held`."""

    def __init__(self) -> None:
        self.stub = StubRasa()
        self.heard: list[tuple[str, str]] = []
        self.held: dict[str, threading.Event] = {}
        self.open: dict[str, int] = {}
        self.most_at_once = 0
        self._lock = threading.Lock()
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> RasaOverHttp:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        for event in self.held.values():
            event.set()
        self._server.shutdown()
        self._server.server_close()

    def texts(self) -> list[str]:
        with self._lock:
            return [text for _, text in self.heard]

    def _answer(self, request: httpx.Request) -> httpx.Response:
        if request.url.path != "/webhooks/baken/webhook" or request.method != "POST":
            with self._lock:
                return self.stub.handle(request)
        body = json.loads(request.content)
        sender, text = str(body["sender"]), str(body.get("message") or "")
        with self._lock:
            self.heard.append((sender, text))
            self.open[sender] = self.open.get(sender, 0) + 1
            self.most_at_once = max(self.most_at_once, self.open[sender])
            held = self.held.get(text)
        try:
            if held is not None:
                held.wait(timeout=60)
            with self._lock:
                return self.stub.handle(request)
        finally:
            with self._lock:
                self.open[sender] -= 1

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                content = self.rfile.read(length) if length else b""
                request = httpx.Request(self.command, f"{outer.url}{self.path}", content=content)
                response = outer._answer(request)
                self.send_response(response.status_code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(response.content)))
                self.end_headers()
                self.wfile.write(response.content)

            do_GET = do_POST = do_PUT = _serve

            def log_message(self, *_args: Any) -> None:
                return None

        return Handler


@pytest.fixture
def two_desks(tmp_path: Path) -> Iterator[tuple[DeskProcess, DeskProcess, RasaOverHttp, str]]:
    with temporary_postgres_database() as url, RasaOverHttp() as rasa:
        desks = [DeskProcess(url, rasa.url, tmp_path / f"desk-{n}", **SCALED) for n in ("a", "b")]
        try:
            for desk in desks:
                desk.folder.mkdir()
                desk.start()
            yield desks[0], desks[1], rasa, url
        finally:
            for desk in desks:
                if desk.proc is not None and desk.proc.poll() is None:
                    os.kill(desk.pid, signal.SIGCONT)
                desk.kill()


def test_a_stopped_process_s_message_goes_first_then_the_next_one_on_the_other_process(two_desks) -> None:
    a, b, rasa, url = two_desks
    visitor = uuid.uuid4().hex
    rasa.held["eerste vraag"] = threading.Event()
    asking = threading.Thread(target=lambda: _quietly(a.say, visitor, "m1", "eerste vraag", 120.0), daemon=True)
    asking.start()
    _until(lambda: rasa.texts() == ["eerste vraag"], 30.0)
    os.kill(a.pid, signal.SIGSTOP)  # A holds message 1 (its lease no longer renewed)
    stopped = time.monotonic()
    rasa.held["eerste vraag"].set()  # the assistant answered; A, stopped, never reads it
    second = b.say(visitor, "m2", "tweede vraag", timeout=30.0)
    assert [m["author"] for m in second["messages"]] == ["citizen"], "B answered message 2 before message 1"
    assert rasa.texts() == ["eerste vraag"]

    engine = create_engine(url)
    try:

        def states() -> list[Processing | None]:
            with engine.connect() as conn:
                return list(conn.scalars(select(Message.processing).where(Message.author == "citizen")))

        _until(lambda: states() == [Processing.done, Processing.done], LEASE_S + 30.0)
    finally:
        engine.dispose()
    waited = time.monotonic() - stopped
    assert rasa.texts() == ["eerste vraag", "eerste vraag", "tweede vraag"], "message 1 again (by B), then 2"
    assert rasa.most_at_once == 1, "two messages of one conversation at the assistant at once"
    assert waited >= LEASE_S - 1.0, "message 1 was taken from A before its lease ran out"
    # the lease, then B's next sweep (SWEEP_INTERVAL_S=1 here), then message 2 at once after 1
    assert waited < LEASE_S + 10.0, f"message 2 was answered {waited:.1f} s after A stopped"
    history = httpx.get(f"{b.url}/api/widget/messages", headers={"X-Baken-Visitor": visitor}, timeout=10).json()
    texts = [m["text"] for m in history["messages"]]
    assert texts.index("eerste vraag") < texts.index("tweede vraag")
    assert len(texts) == 4, texts  # two questions, one answer each, in order

    # A wakes up with the assistant's answer to message 1, which B answered meanwhile: its
    # claim is fenced, so it stores nothing (before the fence it stored a second answer)
    os.kill(a.pid, signal.SIGCONT)
    asking.join(timeout=60.0)
    assert not asking.is_alive(), "A's request did not end after it woke up"
    history = httpx.get(f"{b.url}/api/widget/messages", headers={"X-Baken-Visitor": visitor}, timeout=10).json()
    assert [m["text"] for m in history["messages"]] == texts, "A stored an answer after it woke up"


def _quietly(call: Any, *args: Any) -> None:
    with suppress(httpx.HTTPError, AssertionError):  # A is stopped, then killed: its request never ends well
        call(*args)


def _until(condition: Any, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)
