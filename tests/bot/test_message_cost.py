"""What one widget message costs the database (issue 13's desk-overhead analysis), and the
one shortcut that budget relies on: a message reads its conversation once, with its claim,
after it waited for the conversation's lock. On SQLite and PostgreSQL, with a scripted Rasa.

On PostgreSQL every connection checkout is a round trip of its own (`pool_pre_ping`), and the
desk's database calls run on its event loop, so each statement and checkout is time every
other request waits too (benchmarks/desk_overhead.py measures it under load)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import event, func, select
from sqlalchemy.engine import Engine

from baken_core.paths import PROJECT_ROOT
from bot.rasa_client import BotReply
from bot.routing import Dispatcher, Inbound
from desk.app import create_app
from handoff.config import DeskSettings
from handoff.store.db import create_engine, session_factory
from handoff.store.events import EventBus
from handoff.store.models import Channel, ConversationStatus, Message, Processing
from handoff.store.office_hours import OfficeHours
from tests.bot.rasa_stub import RasaStub
from tests.moments import TUESDAY_MORNING
from tests.rasa_stub import StubRasa

HOURS = OfficeHours.from_settings(yaml.safe_load((PROJECT_ROOT / "data" / "gemeente.yml").read_text())["opening_hours"])
CHECKOUTS_PER_MESSAGE = 4
"""Store (with the limits), claim (with the message it claimed), finish, the widget's read."""
STATEMENTS_PER_MESSAGE = 14
"""For a plain answer of one line: 4 to store, 2 to claim, 1 for the button payload, 5 to
finish (read, parse, answer, done) and 2 for the widget's read; 22 before the analysis."""


class Tally:
    def __init__(self, engine: Engine) -> None:
        self.statements: list[str] = []
        self.full: list[str] = []
        self.checkouts = 0
        self.on = False
        event.listen(engine, "before_cursor_execute", self._statement)
        event.listen(engine, "checkout", self._checkout)

    def _statement(self, _conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        if self.on and not statement.startswith("BEGIN"):  # SQLite's BEGIN IMMEDIATE (db.py)
            self.statements.append(" ".join(statement.split())[:100])
            self.full.append(statement)

    def start(self) -> None:
        """Once the app's first rounds of periodic jobs (they run at start) are over."""
        self.on = True
        for _ in range(50):
            seen = len(self.statements)
            time.sleep(0.1)
            if len(self.statements) == seen:
                break
        self.statements, self.full, self.checkouts = [], [], 0

    def _checkout(self, *_: Any) -> None:
        if self.on:
            self.checkouts += 1


@pytest.fixture
def client(database_url: str, tmp_path: Path, stub_rasa: StubRasa) -> Iterator[TestClient]:
    # no periodic jobs in the measured window: the sweep and the purges wait an hour
    settings = DeskSettings(database_url=database_url, secret_key_file=str(tmp_path / "secret"), sweep_interval_s=3600)
    with TestClient(create_app(settings, rasa_client=stub_rasa.client)) as test_client:
        yield test_client


def send(client: TestClient, visitor: str, key: str, text: str) -> dict[str, Any]:
    response = client.post("/api/widget/messages", json={"visitor_id": visitor, "client_message_id": key, "text": text})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_a_widget_message_stays_within_its_database_budget(client: TestClient) -> None:
    engine = client.app.state.desk.sessions.kw["bind"]  # type: ignore[attr-defined]
    tally = Tally(engine)
    visitor = uuid.uuid4().hex
    send(client, visitor, "m0", "hallo")  # the citizen and the conversation exist from here
    tally.start()
    body = send(client, visitor, "m1", "hoe vraag ik huurtoeslag aan")
    tally.on = False
    assert [m["author"] for m in body["messages"]] == ["citizen", "bot"]
    assert "toeslagen.nl" in body["messages"][1]["text"] and body["status"] == "bot"
    statements = "\n".join(tally.statements)
    assert tally.checkouts <= CHECKOUTS_PER_MESSAGE, statements
    assert len(tally.statements) <= STATEMENTS_PER_MESSAGE, statements
    if engine.dialect.name == "postgresql":
        # storing reads the open conversation and takes its claim lock in that one statement
        # (handoff/store/processing.py: a message stored late through another process goes first)
        reads = [s for s in tally.full if s.startswith("SELECT conversations.") and "pg_advisory_xact_lock" in s]
        assert reads, statements
    with client.app.state.desk.sessions() as session:  # type: ignore[attr-defined]
        states = session.scalars(select(Message.processing).where(Message.author == "citizen")).all()
    assert states == [Processing.done, Processing.done]


def test_a_resend_costs_less_and_is_stored_once(client: TestClient) -> None:
    engine = client.app.state.desk.sessions.kw["bind"]  # type: ignore[attr-defined]
    tally = Tally(engine)
    visitor = uuid.uuid4().hex
    first = send(client, visitor, "m1", "hoe vraag ik zorgtoeslag aan")
    tally.start()
    again = send(client, visitor, "m1", "hoe vraag ik zorgtoeslag aan")
    tally.on = False
    assert again["duplicate"] is True and again["messages"] == first["messages"]
    assert tally.checkouts <= 2 and len(tally.statements) <= 6, "\n".join(tally.statements)
    with client.app.state.desk.sessions() as session:  # type: ignore[attr-defined]
        assert session.scalar(select(func.count()).where(Message.author == "citizen")) == 1


BUTTONS = [{"title": "Ja", "payload": "/affirm"}, {"title": "Nee, dank je", "payload": "/deny"}]


class GatedRasa(RasaStub):
    """Answers at once, except a request for a worker: that answer waits for `gate`."""

    def __init__(self) -> None:
        self.heard: list[str] = []
        self.gate = asyncio.Event()

    async def send(
        self, sender_id: str, text: str, metadata: dict[str, Any] | None = None, *, message_id: str | None = None
    ) -> BotReply:
        self.heard.append(text)
        parse = {"intent": "greet", "confidence": 0.95}
        if text == "hallo":
            return BotReply(texts=[{"text": "Hoi! Gaat het?", "buttons": BUTTONS}], parse=parse)
        if "medewerker" not in text:
            return BotReply(texts=[{"text": "Hoi!"}], parse=parse)
        await self.gate.wait()
        handoff = {"reason": "request_human", "urgency": "normal", "domains": []}
        return BotReply(
            texts=[{"text": "Ik geef je gesprek door.", "handoff": True}],
            handoff=handoff,
            parse={"intent": "request_human", "confidence": 0.95},
        )


def test_a_message_that_waited_for_its_conversation_sees_the_handoff_before_it(database_url: str) -> None:
    """The second message arrives while the first one is with Rasa (the conversation is `bot`);
    it waits for the conversation's lock, the first one queues the conversation, and the second
    must then go to the worker's inbox, not to Rasa."""
    engine = create_engine(database_url)
    rasa = GatedRasa()
    desk = Dispatcher(session_factory(engine), rasa, HOURS, EventBus(), clock=lambda: TUESDAY_MORNING, patience_s=60)

    async def scenario() -> tuple[Any, Any]:
        def say(key: str, text: str) -> asyncio.Task[Any]:
            return asyncio.create_task(
                desk.inbound(Inbound(Channel.widget, "wachtende-bezoeker", text, dedupe_key=key))
            )

        first = say("k1", "ik wil een medewerker spreken")
        while not rasa.heard:
            await asyncio.sleep(0.01)
        second = say("k2", "en ik heb ook een vraag over de huur")
        await asyncio.sleep(0.2)  # stored, and waiting for the lock
        assert not second.done() and rasa.heard == ["ik wil een medewerker spreken"]
        rasa.gate.set()
        return await first, await second

    try:
        first, second = asyncio.run(scenario())
    finally:
        engine.dispose()
    assert first.status is ConversationStatus.queued
    assert second.status is ConversationStatus.queued, "the second message went on as if the assistant had it"
    assert rasa.heard == ["ik wil een medewerker spreken"]


def test_rasa_gets_the_payload_of_a_pressed_or_typed_button_title(database_url: str) -> None:
    """Read with the claim now (not in a session of its own): the transcript keeps the title."""
    engine = create_engine(database_url)
    rasa = GatedRasa()
    desk = Dispatcher(session_factory(engine), rasa, HOURS, EventBus(), clock=lambda: TUESDAY_MORNING, patience_s=60)

    async def scenario() -> None:
        for key, text in (("k1", "hallo"), ("k2", "/deny"), ("k3", "hallo"), ("k4", "Ja"), ("k5", "ja hoor")):
            await desk.inbound(Inbound(Channel.telegram, "knoppen", text, dedupe_key=key))

    try:
        asyncio.run(scenario())
        with session_factory(engine)() as session:
            stored = session.scalars(select(Message.text).where(Message.author == "citizen").order_by(Message.id))
            transcript = list(stored)
    finally:
        engine.dispose()
    assert rasa.heard == ["hallo", "/deny", "hallo", "/affirm", "ja hoor"]
    assert transcript == ["hallo", "Nee, dank je", "hallo", "Ja", "ja hoor"]
