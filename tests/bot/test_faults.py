"""Fault tests with real processes and real signals (issue 9): a desk process (uvicorn) and a
Rasa server of the test's own, with the SQL tracker store; no mock of Rasa or the database.

Each scenario checks that every citizen message got exactly one answer or one handoff, that
a crisis got the crisis reply at once, that nothing was doubled, and that the assistant's
context (slots) was kept where the scenario allows.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from baken_core.crisis import CRISIS_MESSAGE
from baken_core.paths import PROJECT_ROOT
from bot.rasa_client import RasaClient
from bot.routing import PATIENT, RASA_DOWN, Inbound, Router
from handoff import conversations as convs
from handoff.db import create_engine, session_factory
from handoff.events import EventBus
from handoff.migrate import upgrade
from handoff.models import Author, Channel, Conversation, ConversationStatus, Handoff, Message, Processing, Urgency
from tests.bot.conftest import MODEL, TUESDAY_MORNING, RasaServer, action_server, free_port
from tests.bot.test_routing import HOURS

DESK_BIN = PROJECT_ROOT / ".venv-desk" / "bin"


class DeskProcess:
    """The desk as `make run` starts it (uvicorn), on a port of its own."""

    def __init__(self, database_url: str, rasa_url: str, folder: Path, **settings: str) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.folder = folder
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "RASA_URL": rasa_url,
            "SECRET_KEY_FILE": str(folder / "secret"),
            "ATTACHMENTS_DIR": str(folder / "attachments"),
            "SWEEP_INTERVAL_S": "1",
            **settings,
        }
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> None:
        self.starts += 1
        log = (self.folder / f"desk-{self.starts}.log").open("wb")
        command = [str(DESK_BIN / "uvicorn"), "--factory", "handoff.app:create_app", "--host", "127.0.0.1"]
        self.proc = subprocess.Popen(
            [*command, "--port", str(self.port)], cwd=PROJECT_ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, "the desk exited"
            try:
                if httpx.get(f"{self.url}/healthz", timeout=10).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise AssertionError("the desk did not start")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=30)

    def say(self, visitor: str, client_id: str, text: str, timeout: float = 120.0) -> dict[str, Any]:
        body = {"visitor_id": visitor, "client_message_id": client_id, "text": text}
        response = httpx.post(f"{self.url}/api/widget/messages", json=body, timeout=timeout)
        assert response.status_code == 200, response.text
        return dict(response.json())

    def health(self) -> dict[str, Any]:
        return dict(httpx.get(f"{self.url}/healthz", timeout=10).json())


@pytest.fixture(scope="module")
def actions(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with action_server(tmp_path_factory.mktemp("actions")) as url:
        yield url


@pytest.fixture
def rasa(tmp_path: Path, actions: str) -> Iterator[RasaServer]:
    assert MODEL.exists(), "no trained model: run `make train`"
    server = RasaServer(MODEL, tmp_path / "rasa", actions)
    server.start()
    yield server
    server.kill()


def replies_to(sessions: Any, message_id: int | None) -> list[str]:
    with sessions() as session:
        return list(
            session.scalars(select(Message.text).where(Message.reply_to == message_id).order_by(Message.id)).all()
        )


def wait_until(predicate: Any, timeout: float = 60.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}")


def user_turns(rasa_url: str, sender: str) -> list[str]:
    tracker = httpx.get(f"{rasa_url}/conversations/{sender}/tracker", timeout=30).json()
    return [e.get("text") or "" for e in tracker["events"] if e["event"] == "user"]


def tracker(rasa_url: str, sender: str) -> dict[str, Any]:
    return dict(httpx.get(f"{rasa_url}/conversations/{sender}/tracker", timeout=30).json())


def test_desk_killed_while_rasa_is_paused_then_resent_answered_once(
    database_url: str, rasa: RasaServer, tmp_path: Path
) -> None:
    """Reproduction 1 of issue 9, for a crisis and for an ordinary question."""
    desk = DeskProcess(database_url, rasa.url, tmp_path)
    engine = create_engine(database_url)
    sessions = session_factory(engine)
    visitor, other = uuid.uuid4().hex, uuid.uuid4().hex
    try:
        desk.start()
        assert any(m["author"] == "bot" for m in desk.say(visitor, "m1", "hallo")["messages"])

        lost: dict[str, Any] = {}
        rasa.signal(signal.SIGSTOP)  # Rasa holds the message; the desk dies before it answers
        for who, client_id, text in (
            (visitor, "m2", "ik wil niet meer leven"),
            (other, "m3", "hoe vraag ik zorgtoeslag aan"),
        ):

            def post(who: str = who, client_id: str = client_id, text: str = text) -> None:
                try:
                    desk.say(who, client_id, text, timeout=30)
                except Exception as exc:  # the desk is killed under it
                    lost[client_id] = exc

            thread = threading.Thread(target=post)
            started = time.monotonic()
            thread.start()
            time.sleep(1.5)
            if client_id == "m2":  # the crisis reply is stored before anything waits for Rasa
                with sessions() as session:
                    crisis_id = session.scalar(select(Message.id).where(Message.text == text))
                assert crisis_id is not None and replies_to(sessions, crisis_id)[:1] == [CRISIS_MESSAGE]
                assert time.monotonic() - started < 3.0
            desk.kill()
            thread.join(timeout=30)
            desk.start()
        rasa.signal(signal.SIGCONT)

        # the widget's outbox resends both with the same ids
        desk.say(visitor, "m2", "ik wil niet meer leven")
        desk.say(other, "m3", "hoe vraag ik zorgtoeslag aan")
        with sessions() as session:
            ids = {
                text: session.scalar(select(Message.id).where(Message.text == text, Message.author == Author.citizen))
                for text in ("ik wil niet meer leven", "hoe vraag ik zorgtoeslag aan")
            }

        def all_done() -> bool:
            with sessions() as session:
                states = session.scalars(select(Message.processing).where(Message.author == Author.citizen)).all()
            return all(state is Processing.done for state in states)

        wait_until(all_done, 90, "every citizen message answered")
        crisis_replies = replies_to(sessions, ids["ik wil niet meer leven"])
        assert crisis_replies.count(CRISIS_MESSAGE) == 1, crisis_replies
        question_replies = replies_to(sessions, ids["hoe vraag ik zorgtoeslag aan"])
        assert any("toeslagen.nl" in r for r in question_replies), question_replies
        assert len(question_replies) == len(set(question_replies)), "no answer twice"
        assert RASA_DOWN not in question_replies
        with sessions() as session:
            citizen_count = session.scalar(select(func.count()).where(Message.author == Author.citizen))
            handoffs = session.scalars(select(Handoff)).all()
            conversations = session.scalars(select(Conversation).order_by(Conversation.id)).all()
        assert citizen_count == 3, "nothing stored twice"
        assert len(handoffs) == 1 and handoffs[0].urgency is Urgency.crisis
        assert [c.status for c in conversations] == [ConversationStatus.queued, ConversationStatus.bot]
        for conversation, text in zip(
            conversations, ("ik wil niet meer leven", "hoe vraag ik zorgtoeslag aan"), strict=True
        ):
            turns = user_turns(rasa.url, conversation.rasa_sender_id)
            assert turns.count(text) <= 1, turns  # Rasa never heard a message twice
        assert user_turns(rasa.url, conversations[1].rasa_sender_id) == ["hoe vraag ik zorgtoeslag aan"]
        assert desk.health()["waiting_for_answer"] == 0
    finally:
        desk.kill()
        rasa.signal(signal.SIGCONT)
        engine.dispose()


class Harness:
    def __init__(self, database_url: str, rasa_url: str, **router: Any) -> None:
        upgrade(database_url)
        self.engine = create_engine(database_url)
        self.sessions = session_factory(self.engine)
        self.loop = asyncio.new_event_loop()
        self.rasa = RasaClient(rasa_url, timeout_s=30)
        self.router = Router(self.sessions, self.rasa, HOURS, EventBus(), clock=lambda: TUESDAY_MORNING, **router)

    def say(self, who: str, text: str) -> Any:
        return self.loop.run_until_complete(self.router.inbound(Inbound(Channel.widget, who, text)))

    def close(self) -> None:
        self.loop.run_until_complete(self.rasa.close())
        self.loop.close()
        self.engine.dispose()


TRIAGE_SLOTS = ("triage_urgency", "triage_domains", "answered_topics")


def test_a_rasa_restart_and_a_model_swap_keep_the_conversation(database_url: str, rasa: RasaServer) -> None:
    """Reproduction 2 of issue 9: slots, history and the conversation go on."""
    desk = Harness(database_url, rasa.url)
    try:
        desk.say("slots-" + "a" * 10, "hoe vraag ik zorgtoeslag aan")
        desk.say("slots-" + "a" * 10, "ik kan de huur niet meer betalen en de verhuurder dreigt met ontruiming")
        with desk.sessions() as session:
            sender = session.scalars(select(Conversation.rasa_sender_id)).one()
        before = tracker(rasa.url, sender)
        assert len(before["events"]) > 10
        kept = {k: before["slots"].get(k) for k in TRIAGE_SLOTS if k in before["slots"]}
        assert any(kept.values()), before["slots"]

        swapped = httpx.put(f"{rasa.url}/model", json={"model_file": str(MODEL)}, timeout=300)
        assert swapped.status_code == 204
        after_swap = tracker(rasa.url, sender)
        assert len(after_swap["events"]) == len(before["events"])
        assert {k: after_swap["slots"].get(k) for k in kept} == kept

        rasa.kill()
        rasa.start()
        after_restart = tracker(rasa.url, sender)
        assert len(after_restart["events"]) == len(before["events"])
        assert {k: after_restart["slots"].get(k) for k in kept} == kept

        result = desk.say("slots-" + "a" * 10, "hoe vraag ik huurtoeslag aan")
        texts = [r.text for r in result.replies]
        assert RASA_DOWN not in texts and any("toeslagen.nl" in t for t in texts), texts
    finally:
        desk.close()


def test_messages_while_rasa_starts_are_answered_by_the_assistant(
    database_url: str, actions: str, tmp_path: Path
) -> None:
    """Reproduction 3 of issue 9: Rasa loading is not Rasa down."""
    server = RasaServer(MODEL, tmp_path / "rasa", actions)
    desk = Harness(database_url, server.url, rasa_wait_s=180.0, patience_s=2.0)
    try:
        server.start(wait=False)
        started = time.monotonic()
        result = desk.say("starting-" + "b" * 8, "hoe vraag ik zorgtoeslag aan")
        texts = [r.text for r in result.replies]
        assert time.monotonic() - started > 2.0, "Rasa was really still starting"
        assert RASA_DOWN not in texts and result.status is ConversationStatus.bot
        assert texts.count(PATIENT) == 1 and any("toeslagen.nl" in t for t in texts), texts
    finally:
        desk.close()
        server.kill()


def test_rasa_stopped_past_the_bound_hands_off_once_crisis_at_once(database_url: str, rasa: RasaServer) -> None:
    desk = Harness(database_url, rasa.url, rasa_wait_s=6.0, patience_s=2.0)
    rasa.signal(signal.SIGSTOP)
    try:
        started = time.monotonic()
        crisis = desk.say("stopped-" + "c" * 8, "ik wil er niet meer zijn")
        assert crisis.replies[0].text == CRISIS_MESSAGE and crisis.status is ConversationStatus.queued
        assert time.monotonic() - started < 20
        ordinary = desk.say("stopped-" + "d" * 8, "hoe vraag ik zorgtoeslag aan")
        texts = [r.text for r in ordinary.replies]
        assert texts.count(PATIENT) == 1 and texts.count(RASA_DOWN) == 1
        assert ordinary.status is ConversationStatus.queued
        with desk.sessions() as session:
            reasons = sorted(session.scalars(select(Handoff.reason)).all())
        assert reasons == ["crisis", "rasa_unavailable"]
    finally:
        rasa.signal(signal.SIGCONT)
        desk.close()


def test_two_desk_processes_sweeping_answer_each_message_once(postgres_url: str, rasa: RasaServer) -> None:
    """Two routers on their own engines (as two desk processes) sweep one PostgreSQL database."""
    upgrade(postgres_url)
    first, second = Harness(postgres_url, rasa.url), Harness(postgres_url, rasa.url)
    try:
        with first.sessions.begin() as session:  # left by a crash: stored, never answered
            for index in range(12):
                citizen = convs.citizen_for(session, Channel.widget, f"sweep-{index:02d}-" + "e" * 8)
                conversation = convs.active_conversation(session, citizen)
                convs.record_message(session, conversation, Author.citizen, "hoe vraag ik zorgtoeslag aan")

        async def both() -> list[int]:
            return list(await asyncio.gather(first.router.sweep(grace_s=0), second.router.sweep(grace_s=0)))

        answered = first.loop.run_until_complete(both())
        assert sum(answered) == 12, answered
        with first.sessions() as session:
            replies = session.execute(select(Message.reply_to, Message.text).where(Message.reply_to.is_not(None))).all()
        per_message: dict[int, list[str]] = {}
        for reply_to, text in replies:
            per_message.setdefault(reply_to, []).append(text)
        assert len(per_message) == 12, "each message answered"
        assert all(len(texts) == len(set(texts)) for texts in per_message.values()), "none twice"
        assert len({len(texts) for texts in per_message.values()}) == 1, "every one answered the same way"
    finally:
        first.loop.run_until_complete(second.rasa.close())  # it ran on the first loop
        second.loop.close()
        second.engine.dispose()
        first.close()
        from tests.databases import empty_tables

        engine = create_engine(postgres_url)
        empty_tables(engine)
        engine.dispose()
