"""One conversation's messages reach the assistant one at a time and in order, also across
desk processes: two dispatchers on their own engines (as two desk processes) share one
database, on SQLite and on PostgreSQL. The assistant is a recording fake here (what is under
test is who asks it what, and when); the crisis reply never waits for an earlier message."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from sqlalchemy import select

from baken_core.crisis import is_crisis_reply
from baken_core.paths import PROJECT_ROOT
from bot.rasa_client import BotReply
from bot.routing import Dispatcher, Inbound
from handoff.store import conversations as convs
from handoff.store import processing
from handoff.store.db import create_engine, session_factory
from handoff.store.events import EventBus
from handoff.store.migrate import upgrade
from handoff.store.models import Author, Channel, Message, Processing, utcnow
from handoff.store.office_hours import OfficeHours
from tests.bot.rasa_stub import RasaStub
from tests.moments import TUESDAY_MORNING

HOURS = OfficeHours.from_settings(yaml.safe_load((PROJECT_ROOT / "data" / "gemeente.yml").read_text())["opening_hours"])


class RecordingRasa(RasaStub):
    """Answers every message; holds the ones in `held` until `let_go`; records the order and
    how many calls one conversation had open at once."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        self.held: dict[str, asyncio.Event] = {}
        self.open: dict[str, int] = {}
        self.most_at_once = 0

    def hold(self, text: str) -> None:
        self.held[text] = asyncio.Event()

    def let_go(self, text: str) -> None:
        self.held[text].set()

    async def send(
        self, sender_id: str, text: str, metadata: dict[str, Any] | None = None, *, message_id: str | None = None
    ) -> BotReply:
        self.open[sender_id] = self.open.get(sender_id, 0) + 1
        self.most_at_once = max(self.most_at_once, self.open[sender_id])
        self.seen.append(text)
        try:
            if text in self.held:
                await self.held[text].wait()
            return BotReply(texts=[{"text": f"antwoord op {text}"}])
        finally:
            self.open[sender_id] -= 1


class TwoDesks:
    def __init__(self, database_url: str) -> None:
        upgrade(database_url)
        self.rasa = RecordingRasa()
        self.engines = [create_engine(database_url) for _ in range(2)]
        self.sessions = session_factory(self.engines[0])
        self.a, self.b = (
            Dispatcher(session_factory(engine), self.rasa, HOURS, EventBus(), clock=lambda: TUESDAY_MORNING)
            for engine in self.engines
        )

    def say(self, desk: Dispatcher, text: str, key: str) -> asyncio.Task[Any]:
        return asyncio.create_task(desk.inbound(Inbound(Channel.widget, "v" * 16, text, dedupe_key=key)))

    def stored(self, text: str, *, crisis: bool = False) -> int:
        """A citizen message as the inbound of a process stores it, before it claims it."""
        with self.sessions.begin() as session:
            conversation = convs.active_conversation(session, convs.citizen_for(session, Channel.widget, "v" * 16))
            return convs.record_message(session, conversation, Author.citizen, text, crisis=crisis)[0].id

    def processing(self) -> dict[str, Processing | None]:
        with self.sessions() as session:
            rows = session.execute(select(Message.text, Message.processing).where(Message.author == Author.citizen))
            return {text: state for text, state in rows}

    def replies(self) -> list[str]:
        with self.sessions() as session:
            return list(session.scalars(select(Message.text).where(Message.author != Author.citizen)))

    async def until(self, what: Any, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while not what():
            assert time.monotonic() < deadline, "timed out"
            await asyncio.sleep(0.05)

    def close(self) -> None:
        for engine in self.engines:
            engine.dispose()


@pytest.fixture
def desks(database_url: str) -> Iterator[TwoDesks]:
    two = TwoDesks(database_url)
    yield two
    two.close()


def test_a_second_message_on_the_other_process_waits_for_the_first(desks: TwoDesks) -> None:
    async def scenario() -> None:
        desks.rasa.hold("eerste vraag")
        first = desks.say(desks.a, "eerste vraag", "k1")
        await desks.until(lambda: desks.rasa.seen == ["eerste vraag"])
        second = await desks.say(desks.b, "tweede vraag", "k2")  # process B: the conversation is busy
        assert second.in_progress and not second.replies
        assert desks.processing()["tweede vraag"] is Processing.pending
        await asyncio.sleep(0.3)
        assert desks.rasa.seen == ["eerste vraag"], "the second message went to the assistant too early"
        desks.rasa.let_go("eerste vraag")
        answered = await first
        assert [r.text for r in answered.replies] == ["antwoord op eerste vraag"]
        # process A, done with the first, takes the second at once: no sweep needed
        await desks.until(lambda: desks.processing()["tweede vraag"] is Processing.done, timeout=5.0)
        assert desks.rasa.seen == ["eerste vraag", "tweede vraag"]
        assert desks.rasa.most_at_once == 1
        assert desks.replies() == ["antwoord op eerste vraag", "antwoord op tweede vraag"]

    asyncio.run(scenario())


def test_a_crisis_behind_a_busy_message_gets_its_reply_at_once(desks: TwoDesks) -> None:
    async def scenario() -> None:
        desks.rasa.hold("eerste vraag")
        first = desks.say(desks.a, "eerste vraag", "k1")
        await desks.until(lambda: desks.rasa.seen == ["eerste vraag"])
        started = time.monotonic()
        crisis = await desks.say(desks.b, "ik wil niet meer leven", "k2")
        assert time.monotonic() - started < 2.0
        assert any(is_crisis_reply(r.text) for r in crisis.replies), "the crisis reply waited"
        assert desks.processing()["ik wil niet meer leven"] is Processing.pending  # answered, not yet done
        desks.rasa.let_go("eerste vraag")
        await first
        await desks.until(lambda: desks.processing()["ik wil niet meer leven"] is Processing.done, timeout=5.0)
        assert sum(map(is_crisis_reply, desks.replies())) == 1, "one crisis reply, not one per process"
        assert desks.rasa.most_at_once == 1

    asyncio.run(scenario())


def test_after_a_crash_the_sweep_answers_the_first_message_then_the_second(desks: TwoDesks) -> None:
    async def scenario() -> None:
        first = desks.stored("eerste vraag")
        with desks.sessions.begin() as session:  # process A claimed it, then died: its lease ran out
            assert processing.claim(session, first, lease_s=1.0, now=utcnow() - dt.timedelta(seconds=2))
        second = await desks.say(desks.b, "tweede vraag", "k2")
        assert second.in_progress and desks.rasa.seen == []
        assert await desks.b.sweep(grace_s=0) >= 1
        await desks.until(lambda: set(desks.processing().values()) == {Processing.done}, timeout=5.0)
        assert desks.rasa.seen == ["eerste vraag", "tweede vraag"]
        assert desks.rasa.most_at_once == 1

    asyncio.run(scenario())


def test_after_a_crash_the_sweep_gives_a_crisis_reply_before_the_earlier_message_is_answered(desks: TwoDesks) -> None:
    """Process A died after storing a crisis message behind one it was answering, before the
    crisis reply: the sweep gives the crisis reply at once, not after message 1's Rasa turn
    (which the assistant holds here: the old order would wait for it)."""

    async def scenario() -> None:
        first = desks.stored("eerste vraag")
        desks.stored("ik wil niet meer leven", crisis=True)
        with desks.sessions.begin() as session:
            assert processing.claim(session, first, lease_s=1.0, now=utcnow() - dt.timedelta(seconds=2))
        desks.rasa.hold("eerste vraag")
        sweep = asyncio.create_task(desks.b.sweep(grace_s=0))
        await desks.until(lambda: any(map(is_crisis_reply, desks.replies())), timeout=3.0)
        assert "antwoord op eerste vraag" not in desks.replies()
        await sweep
        await desks.until(lambda: set(desks.processing().values()) == {Processing.done}, timeout=5.0)
        assert sum(map(is_crisis_reply, desks.replies())) == 1
        # the crisis put the conversation in the workers' queue: message 1 goes to them, not to Rasa
        assert desks.rasa.seen == []

    asyncio.run(scenario())


def test_a_message_that_always_fails_goes_to_a_worker_and_the_next_one_goes_on(desks: TwoDesks) -> None:
    """Claims are in order, so a message that fails every time (a bug, not an outage) would hold
    its conversation for ever: after MAX_ATTEMPTS claims it goes to a worker with a kind notice,
    and the message behind it is handled."""
    from bot.routing.texts import NOT_PROCESSED
    from handoff.store.models import Handoff

    recording = desks.rasa.send

    async def failing(
        sender_id: str, text: str, metadata: dict[str, Any] | None = None, *, message_id: str | None = None
    ) -> BotReply:
        if text == "kapotte vraag":
            raise RuntimeError("a bug in the assistant's path")
        return await recording(sender_id, text, metadata, message_id=message_id)

    desks.rasa.send = failing  # type: ignore[method-assign]

    async def scenario() -> None:
        desks.stored("kapotte vraag")
        desks.stored("tweede vraag")
        for _ in range(processing.MAX_ATTEMPTS):  # each sweep claims it once; it fails and is released
            await desks.a.sweep(grace_s=0)
            assert desks.processing() == {"kapotte vraag": Processing.pending, "tweede vraag": Processing.pending}
        await desks.b.sweep(grace_s=0)  # the next claim gives up on the assistant
        await desks.until(lambda: set(desks.processing().values()) == {Processing.done}, timeout=5.0)
        assert NOT_PROCESSED in desks.replies()
        with desks.sessions() as session:
            assert session.scalars(select(Handoff.reason)).all() == ["not_processed"]
        assert desks.rasa.seen == [], "the conversation is with a worker now: the second message goes to them"

    asyncio.run(scenario())


def test_a_message_whose_handoff_failed_as_often_is_only_marked_done(desks: TwoDesks) -> None:
    """Even the way to a worker failed MAX_ATTEMPTS more times: the message is marked done (it
    stays in the conversation) and the conversation's next message is handled."""
    from sqlalchemy import update

    async def scenario() -> None:
        stuck = desks.stored("kapotte vraag")
        desks.stored("tweede vraag")
        with desks.sessions.begin() as session:
            session.execute(update(Message).where(Message.id == stuck).values(attempts=2 * processing.MAX_ATTEMPTS))
        await desks.a.sweep(grace_s=0)
        await desks.until(lambda: set(desks.processing().values()) == {Processing.done}, timeout=5.0)
        assert desks.rasa.seen == ["tweede vraag"]
        assert "antwoord op tweede vraag" in desks.replies()

    asyncio.run(scenario())


def test_a_process_paused_past_its_lease_stores_nothing_when_another_took_the_message(desks: TwoDesks) -> None:
    """Process A claims message 1 and then stands still (as under SIGSTOP: no lease renewal)
    while the assistant works; its lease runs out and process B's sweep claims the message
    again. Both get an answer from the assistant; only one is stored (the claim's fence)."""

    async def frozen(*_: object) -> None:  # a paused process renews nothing
        await asyncio.Event().wait()

    desks.a.lease_s = 0.6
    desks.a._keep_lease = frozen  # type: ignore[method-assign,assignment]

    async def scenario() -> None:
        desks.rasa.hold("eerste vraag")
        first = desks.say(desks.a, "eerste vraag", "k1")
        await desks.until(lambda: desks.rasa.seen == ["eerste vraag"])
        await asyncio.sleep(0.8)  # A's lease ran out
        second = asyncio.create_task(desks.b.sweep(grace_s=0))
        await desks.until(lambda: desks.rasa.seen == ["eerste vraag", "eerste vraag"])
        desks.rasa.let_go("eerste vraag")  # both answers come back; A's first
        late = await first
        await second
        await desks.until(lambda: desks.processing()["eerste vraag"] is Processing.done, timeout=5.0)
        assert desks.replies() == ["antwoord op eerste vraag"], "the answer was stored twice"
        assert not late.replies, "the paused process reported an answer it did not store"

    asyncio.run(scenario())
