"""Fault tests with real processes and real signals (issue 9): a desk process (uvicorn) and a
Rasa server of the test's own, with the SQL tracker store; no mock of Rasa or the database.

Each scenario checks that every citizen message got exactly one answer or one handoff, that
a crisis got the crisis reply at once, that nothing was doubled, and that the assistant's
context (slots) was kept where the scenario allows.
"""

from __future__ import annotations

import asyncio
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

from baken_core.crisis import is_crisis_reply
from bot.rasa_client import RasaClient
from bot.routing import Dispatcher, Inbound
from bot.routing.texts import PATIENT, RASA_DOWN
from handoff.store import conversations as convs
from handoff.store.db import create_engine, session_factory
from handoff.store.events import EventBus
from handoff.store.migrate import upgrade
from handoff.store.models import (
    Author,
    Channel,
    Conversation,
    ConversationStatus,
    Handoff,
    Message,
    Processing,
    Urgency,
)
from stack.desk import DeskProcess
from stack.processes import MODEL, free_port, wait_until
from stack.rasa import RasaServer, action_server
from tests.bot.test_routing import HOURS
from tests.moments import TUESDAY_MORNING

pytestmark = [pytest.mark.faults, pytest.mark.rasa]


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
                assert crisis_id is not None and is_crisis_reply((replies_to(sessions, crisis_id) or [""])[0])
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
        assert sum(map(is_crisis_reply, crisis_replies)) == 1, crisis_replies
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
        self.router = Dispatcher(self.sessions, self.rasa, HOURS, EventBus(), clock=lambda: TUESDAY_MORNING, **router)

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
        assert is_crisis_reply(crisis.replies[0].text) and crisis.status is ConversationStatus.queued
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


TELEGRAM_TOKEN = "123456:FAULT-token"


def telegram_update(update_id: int, chat: int, text: str) -> dict[str, Any]:
    person = {"id": chat, "is_bot": False, "first_name": "Sam"}
    message = {"message_id": update_id, "date": int(time.time()), "chat": {**person, "type": "private"}}
    return {"update_id": update_id, "message": {**message, "from": person, "text": text}}


def stored_citizen_ids(sessions: Any) -> dict[str, int]:
    with sessions() as session:
        rows = session.execute(select(Message.text, Message.id).where(Message.author == Author.citizen)).all()
    return {text: message_id for text, message_id in rows}


def test_desk_killed_mid_telegram_update_redelivered_answered_once(
    database_url: str, rasa: RasaServer, tmp_path: Path
) -> None:
    """Reproduction 1 of issue 9 on Telegram: the desk dies while Rasa holds two updates and
    Telegram never got the confirmation, so it serves them again to the restarted desk."""
    from tests.bot.fake_telegram import FakeBotApi

    fake = FakeBotApi(TELEGRAM_TOKEN, free_port())
    fake.start()
    settings = {"TELEGRAM_TOKEN": TELEGRAM_TOKEN, "TELEGRAM_API_URL": fake.url}
    desk = DeskProcess(database_url, rasa.url, tmp_path, **settings)
    engine = create_engine(database_url)
    sessions = session_factory(engine)
    person, other = 700001, 700002
    crisis, question = "ik wil niet meer leven", "hoe vraag ik zorgtoeslag aan"

    def to(chat: int) -> list[str]:
        return [m.get("text", "") for m in fake.sent() if int(m["chat_id"]) == chat]

    try:
        desk.start()
        fake.push(telegram_update(1, person, "hallo"))
        fake.wait_for(lambda sent: len(to(person)) >= 1)

        rasa.signal(signal.SIGSTOP)  # Rasa holds both; the desk dies before it answers
        started = time.monotonic()
        fake.push(telegram_update(2, person, crisis))
        fake.push(telegram_update(3, other, question))
        fake.wait_for(lambda sent: any("113" in text for text in to(person)), timeout=10)
        crisis_after = time.monotonic() - started
        wait_until(lambda: len(stored_citizen_ids(sessions)) == 3, 30, "both updates stored")
        desk.kill()
        fake.unconfirm(2)
        desk.start()
        rasa.signal(signal.SIGCONT)

        ids = stored_citizen_ids(sessions)

        def settled() -> bool:
            with sessions() as session:
                states = session.scalars(select(Message.processing).where(Message.author == Author.citizen)).all()
            health = desk.health()
            return all(s is Processing.done for s in states) and health["deliveries_pending"] == 0

        wait_until(settled, 120, "every update answered and delivered")
        assert crisis_after < 3.0, f"crisis reply after {crisis_after:.1f} s"
        assert len(ids) == 3, "a redelivered update is not stored twice"
        crisis_reply = replies_to(sessions, ids[crisis])[0]
        assert "113" in crisis_reply and "112" in crisis_reply
        assert to(person).count(crisis_reply) == 1, "the crisis reply reached Telegram once"
        answers, stored = to(other), replies_to(sessions, ids[question])
        assert any("toeslagen.nl" in text for text in stored) and RASA_DOWN not in stored, stored
        assert answers == stored, "every stored answer reached Telegram once, in order"
        with sessions() as session:
            senders = list(session.scalars(select(Conversation.rasa_sender_id)).all())
            handoffs = session.scalars(select(Handoff)).all()
        assert [h.urgency for h in handoffs] == [Urgency.crisis]
        for sender in senders:
            turns = user_turns(rasa.url, sender)
            assert len(turns) == len(set(turns)), turns  # Rasa never heard an update twice
        assert desk.health()["deliveries_failed"] == 0
    finally:
        desk.kill()
        rasa.signal(signal.SIGCONT)
        fake.stop()
        engine.dispose()


def test_rasa_killed_while_answering_is_restarted_and_the_message_answered_once(
    database_url: str, rasa: RasaServer
) -> None:
    """Rasa dies (SIGKILL) with a message in hand and comes back: the desk waits for it (no
    'Rasa down' handoff), Rasa hears the message once, and the earlier context is kept."""
    desk = Harness(database_url, rasa.url, rasa_wait_s=240.0, patience_s=2.0)
    who = "killed-" + "f" * 9
    try:
        desk.say(who, "hoe vraag ik zorgtoeslag aan")
        with desk.sessions() as session:
            sender = session.scalars(select(Conversation.rasa_sender_id)).one()
        before = tracker(rasa.url, sender)["slots"].get("answered_topics")
        assert before, "the first answer was recorded in a slot"

        rasa.signal(signal.SIGSTOP)
        outcome: dict[str, Any] = {}
        thread = threading.Thread(target=lambda: outcome.setdefault("result", desk.say(who, "wat is huurtoeslag")))
        thread.start()
        time.sleep(1.5)  # the message is with Rasa now
        rasa.kill()
        rasa.start()
        thread.join(timeout=300)
        result = outcome["result"]
        texts = [r.text for r in result.replies]
        assert RASA_DOWN not in texts and result.status is ConversationStatus.bot, texts
        assert texts.count(PATIENT) == 1 and any("toeslagen.nl" in t for t in texts), texts
        after = tracker(rasa.url, sender)
        assert user_turns(rasa.url, sender) == ["hoe vraag ik zorgtoeslag aan", "wat is huurtoeslag"]
        assert set(before) <= set(after["slots"]["answered_topics"]), after["slots"]
    finally:
        desk.close()


def test_promote_and_roll_back_mid_triage_keep_the_conversation(
    database_url: str, rasa: RasaServer, tmp_path: Path
) -> None:
    """What the admin's "Zet live" and "Terugzetten" do (handoff.learning.promotion), each while a
    citizen's message of a triage conversation is being answered."""
    from handoff.learning import model_registry, promotion
    from handoff.store.models import ModelStatus, ModelVersion, Worker

    desk = Harness(database_url, rasa.url, rasa_wait_s=120.0)
    who = "promote-" + "g" * 8
    live_path, registry = tmp_path / "live" / "baken.tar.gz", tmp_path / "registry"
    live_path.parent.mkdir()
    live_path.write_bytes(MODEL.read_bytes())
    candidate = registry / "candidate.tar.gz"
    try:
        with desk.sessions.begin() as session:
            admin = Worker(name="admin", password_hash="x")
            session.add(admin)
            start = model_registry.ensure_live_registered(session, live_path, registry)
            assert start is not None
            candidate.write_bytes(MODEL.read_bytes())
            metrics = {"accuracy": 1.0, "crisis_recall": 1.0}
            new = ModelVersion(name="candidate", path=str(candidate), status=ModelStatus.ready, metrics=metrics)
            session.add(new)
            session.flush()
            ids = {"admin": admin.id, "start": start.id, "new": new.id}

        desk.say(who, "ik heb schulden en de deurwaarder komt langs")
        desk.say(who, "ik kan de huur niet meer betalen en de verhuurder dreigt met ontruiming")
        with desk.sessions() as session:
            sender = session.scalars(select(Conversation.rasa_sender_id)).one()
        before = tracker(rasa.url, sender)
        kept = {k: before["slots"].get(k) for k in TRIAGE_SLOTS if before["slots"].get(k)}
        assert kept.get("triage_urgency") and kept.get("triage_domains"), before["slots"]

        async def switch_while_answering(version: int, text: str) -> Any:
            swap = promotion.promote(
                desk.sessions, desk.rasa, version, ids["admin"], None, model_registry.Gate(), live_path
            )
            _, answered = await asyncio.gather(swap, desk.router.inbound(Inbound(Channel.widget, who, text)))
            return answered

        for version, text in ((ids["new"], "hoe vraag ik huurtoeslag aan"), (ids["start"], "wat is kwijtschelding")):
            result = desk.loop.run_until_complete(switch_while_answering(version, text))
            texts = [r.text for r in result.replies]
            assert texts and RASA_DOWN not in texts, texts
            slots = tracker(rasa.url, sender)["slots"]
            assert slots.get("triage_urgency") == kept["triage_urgency"], slots
            for name in ("triage_domains", "answered_topics"):
                assert set(kept.get(name) or []) <= set(slots.get(name) or []), (name, slots)
            assert user_turns(rasa.url, sender)[-1] == text and user_turns(rasa.url, sender).count(text) == 1
            with desk.sessions() as session:
                assert session.get(ModelVersion, version).status is ModelStatus.live  # type: ignore[union-attr]
        assert len(user_turns(rasa.url, sender)) == 4, "the history goes on through both switches"
    finally:
        desk.close()


def restart_postgresql() -> None:
    """The machine's PostgreSQL server, restarted the way an operator (or a crash) does."""
    version = sorted(p.name for p in Path("/etc/postgresql").iterdir())[0]
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"], check=True, timeout=120)
    subprocess.run(["pg_isready", "-h", "127.0.0.1", "-p", "5432", "-t", "60"], check=True, timeout=90)


QUESTIONS = (
    "hoe vraag ik zorgtoeslag aan",
    "wat is huurtoeslag",
    "wat is kwijtschelding",
    "hoe vraag ik bijstand aan",
)


def test_postgresql_restarted_while_messages_flow(postgres_url: str, actions: str, tmp_path: Path) -> None:
    """The desk and Rasa's tracker store both on PostgreSQL; the server restarts while five
    citizens are talking. The widget resends what was refused (its outbox does); every
    message is stored once, answered once by the assistant, and Rasa hears each once."""
    import psycopg

    from baken_core.rasa_endpoints import tracker_database
    from tests.databases import POSTGRES_SERVER, empty_tables

    trackers = tracker_database(postgres_url)
    rasa = RasaServer(MODEL, tmp_path / "rasa", actions, tracker=trackers.rasa_config())
    desk = DeskProcess(postgres_url, rasa.url, tmp_path)
    engine = create_engine(postgres_url)
    sessions = session_factory(engine)
    visitors = [f"pg-restart-{index}-" + uuid.uuid4().hex[:12] for index in range(5)]
    refused: list[str] = []
    first_round = threading.Barrier(len(visitors) + 1, timeout=180)

    def talk(visitor: str) -> None:
        for turn, text in enumerate(QUESTIONS):
            deadline = time.monotonic() + 120
            while True:  # the widget's outbox: the same client_message_id until it is stored
                try:
                    body = {"visitor_id": visitor, "client_message_id": f"{visitor}-{turn}", "text": text}
                    if httpx.post(f"{desk.url}/api/widget/messages", json=body, timeout=90).status_code == 200:
                        break
                    refused.append(text)
                except httpx.HTTPError:
                    refused.append(text)
                assert time.monotonic() < deadline, "never stored"
                time.sleep(0.5)
            if turn == 0:
                first_round.wait()
            time.sleep(0.3)

    try:
        rasa.start()
        desk.start()
        threads = [threading.Thread(target=talk, args=(visitor,)) for visitor in visitors]
        for thread in threads:
            thread.start()
        first_round.wait()  # every conversation is under way
        restart_postgresql()
        for thread in threads:
            thread.join(timeout=400)
        assert not any(thread.is_alive() for thread in threads)

        def all_done() -> bool:
            try:
                with sessions() as session:
                    states = session.scalars(select(Message.processing).where(Message.author == Author.citizen)).all()
            except Exception:
                return False
            return len(states) == 20 and all(state is Processing.done for state in states)

        wait_until(all_done, 120, "every citizen message answered")
        with sessions() as session:
            conversations = session.scalars(select(Conversation)).all()
            citizen = session.execute(
                select(Message.id, Message.conversation_id, Message.text).where(Message.author == Author.citizen)
            ).all()
            handoffs = session.scalar(select(func.count()).select_from(Handoff))
        assert len(conversations) == 5 and len(citizen) == 20, "each message stored once"
        assert handoffs == 0 and all(c.status is ConversationStatus.bot for c in conversations)
        for message_id, _, text in citizen:
            answers = replies_to(sessions, message_id)
            assert answers and RASA_DOWN not in answers, (text, answers)
            assert len(answers) == len(set(answers)), ("answered twice", text, answers)
        for conversation in conversations:
            assert user_turns(rasa.url, conversation.rasa_sender_id) == list(QUESTIONS)
        assert desk.health()["waiting_for_answer"] == 0
    finally:
        desk.kill()
        rasa.kill()
        empty_tables(engine)
        engine.dispose()
        with psycopg.connect(POSTGRES_SERVER, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{trackers.database}" WITH (FORCE)')
