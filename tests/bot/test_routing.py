"""Routing one citizen message through the store, the safety net and the real Rasa server,
on SQLite and on PostgreSQL (the `database_url` fixture runs every test on both)."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import pytest
import yaml
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from baken_core.crisis import NOBODY_NOW, TO_THE_TOP, is_crisis_reply
from baken_core.paths import PROJECT_ROOT
from bot.rasa_client import RasaClient
from bot.routing import Dispatcher, Inbound
from bot.routing import dispatcher as routing
from bot.routing.texts import RASA_DOWN
from handoff.inbox import replies
from handoff.store import conversations as convs
from handoff.store.db import create_engine, session_factory
from handoff.store.events import EventBus
from handoff.store.migrate import upgrade
from handoff.store.models import Channel, ConversationStatus, Handoff, Message, Processing, Urgency, Worker
from handoff.store.office_hours import OfficeHours
from stack.processes import free_port
from tests.moments import SATURDAY_NIGHT, TUESDAY_MORNING

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
HOURS = OfficeHours.from_settings(yaml.safe_load((PROJECT_ROOT / "data" / "gemeente.yml").read_text())["opening_hours"])


class Harness:
    def __init__(
        self, database_url: str, rasa_url: str, clock=lambda: TUESDAY_MORNING, rasa_wait_s: float = 2.0
    ) -> None:
        upgrade(database_url)
        self.engine = create_engine(database_url)
        self.sessions = session_factory(self.engine)
        self.bus = EventBus()
        self.events: list[dict] = []
        self.bus.publish = self.events.append  # type: ignore[method-assign,assignment]
        self.loop = asyncio.new_event_loop()
        self.rasa = RasaClient(rasa_url, timeout_s=30)
        self.router = Dispatcher(
            self.sessions, self.rasa, HOURS, self.bus, clock=clock, rasa_wait_s=rasa_wait_s, patience_s=1.0
        )

    def say(self, who: str, text: str, **kwargs):
        return self.loop.run_until_complete(self.router.inbound(Inbound(Channel.widget, who, text, **kwargs)))

    def close(self) -> None:
        self.loop.run_until_complete(self.rasa.close())
        self.loop.close()
        self.engine.dispose()


@pytest.fixture
def desk(database_url: str, rasa_url: str) -> Iterator[Harness]:
    harness = Harness(database_url, rasa_url)
    yield harness
    harness.close()


def texts(result) -> str:
    return "\n".join(r.text for r in result.replies)


def test_a_question_is_answered_by_the_assistant_and_stored(desk: Harness) -> None:
    result = desk.say("anna", "hoe vraag ik zorgtoeslag aan", dedupe_key="w:anna:1")
    assert result.status is ConversationStatus.bot
    assert "toeslagen.nl" in texts(result)
    assert result.replies[-1].buttons  # the check-in
    with desk.sessions() as session:
        authors = [m.author.value for m in session.scalars(select(Message).order_by(Message.id))]
    assert authors[0] == "citizen" and authors.count("bot") == len(result.replies)


def test_a_resent_message_is_not_processed_twice(desk: Harness) -> None:
    first = desk.say("bram", "hallo", dedupe_key="w:bram:1")
    again = desk.say("bram", "hallo", dedupe_key="w:bram:1")
    assert not first.duplicate and again.duplicate and again.replies == []
    with desk.sessions() as session:
        assert session.scalar(select(func.count()).select_from(Message).where(Message.author == "citizen")) == 1


def test_asking_for_a_person_queues_with_the_summary(desk: Harness) -> None:
    desk.say("carla", "ik kan de huur niet meer betalen")
    result = desk.say("carla", "ik wil graag met een medewerker praten")
    assert result.status is ConversationStatus.queued
    assert "nummer 1 in de rij" in texts(result) or "de volgende in de rij" in texts(result)
    with desk.sessions() as session:
        handoff = session.scalars(select(Handoff)).one()
    assert handoff.reason == "request_human"
    assert "ik kan de huur niet meer betalen" in handoff.summary
    assert {
        "type": "queued",
        "conversation_id": result.conversation_id,
        "citizen_id": result.citizen_id,
        "urgency": "normal",
    } in desk.events


def test_crisis_while_queued_gets_numbers_and_jumps_the_queue(desk: Harness) -> None:
    desk.say("early", "ik wil een medewerker spreken")
    waiting = desk.say("dirk", "ik wil een medewerker spreken")
    assert waiting.status is ConversationStatus.queued
    result = desk.say("dirk", "ik wil er niet meer zijn")
    assert is_crisis_reply(result.replies[0].text) and result.crisis
    with desk.sessions() as session:
        order = [h.conversation_id for h in convs.waiting(session)]
        urgency = session.scalars(
            select(Handoff.urgency).where(Handoff.conversation_id == result.conversation_id)
        ).one()
    assert order[0] == result.conversation_id and urgency is Urgency.crisis
    assert {"type": "crisis", "conversation_id": result.conversation_id} in desk.events


def test_messages_to_a_worker_do_not_go_to_the_assistant(desk: Harness) -> None:
    desk.say("eva", "ik wil een medewerker")
    with desk.sessions.begin() as session:
        worker = Worker(name="w", password_hash="x")
        session.add(worker)
        session.flush()
        handoff = convs.claim_next(session, worker)
        assert handoff is not None
    result = desk.say("eva", "hoe vraag ik zorgtoeslag aan")
    assert result.status is ConversationStatus.with_worker
    assert result.replies == []  # the worker answers, not the assistant


def test_two_workers_claiming_at_once_exactly_one_gets_the_chat(desk: Harness) -> None:
    queued = desk.say("joris", "ik wil met een medewerker praten")
    assert queued.status is ConversationStatus.queued
    with desk.sessions.begin() as session:
        workers = [Worker(name=name, password_hash="x") for name in ("anna", "bram")]
        session.add_all(workers)
        session.flush()
        worker_ids = [w.id for w in workers]
    barrier = threading.Barrier(len(worker_ids))
    outcomes: dict[int, str] = {}

    def claim(worker_id: int) -> None:
        barrier.wait()
        try:
            with desk.sessions.begin() as session:
                worker = session.get(Worker, worker_id)
                assert worker is not None
                convs.claim(session, queued.conversation_id, worker)
            outcomes[worker_id] = "won"
        except convs.ClaimConflict:
            outcomes[worker_id] = "conflict"

    threads = [threading.Thread(target=claim, args=(w,)) for w in worker_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes.values()) == ["conflict", "won"], outcomes
    winner = next(w for w, outcome in outcomes.items() if outcome == "won")
    loser = next(w for w in worker_ids if w != winner)
    # only the winner talks with the citizen; the citizen's next message goes to them, not to Rasa
    with pytest.raises(convs.IllegalTransition):
        replies.worker_reply(desk.sessions, desk.router.bus, queued.conversation_id, loser, "ik neem het over")
    replies.worker_reply(desk.sessions, desk.router.bus, queued.conversation_id, winner, "Hoi, ik help je verder.")
    after = desk.say("joris", "dank je")
    assert after.status is ConversationStatus.with_worker and after.replies == []
    with desk.sessions() as session:
        handoff = session.scalars(select(Handoff)).one()
    assert handoff.worker_id == winner and handoff.claimed_at is not None


def test_rasa_down_the_citizen_is_told_and_queued_nothing_lost(database_url: str) -> None:
    desk = Harness(database_url, f"http://127.0.0.1:{free_port()}")
    try:
        result = desk.say("fleur", "ik heb schulden en weet niet wat ik moet doen")
        assert RASA_DOWN in texts(result)
        assert result.status is ConversationStatus.queued
        with desk.sessions() as session:
            handoff = session.scalars(select(Handoff)).one()
            assert handoff.reason == "rasa_unavailable"
            assert "ik heb schulden" in handoff.summary
    finally:
        desk.close()


def test_crisis_at_night_with_rasa_down_is_honest(database_url: str) -> None:
    desk = Harness(database_url, f"http://127.0.0.1:{free_port()}", clock=lambda: SATURDAY_NIGHT)
    try:
        result = desk.say("gijs", "mijn man slaat me en ik durf niet naar huis")
        first = result.replies[0].text
        assert is_crisis_reply(first)
        # the first message says nobody is there, gives 112, Veilig Thuis (violence named) and 113
        assert NOBODY_NOW in first and "maandag om 9.00 uur" in first
        assert first.index("112") < first.index("0800-2000") < first.index("113")
        assert "neemt" not in texts(result) and TO_THE_TOP not in texts(result)  # no promise of a person now
        assert sum(map(is_crisis_reply, (r.text for r in result.replies))) == 1
    finally:
        desk.close()


def test_a_crisis_whose_database_failed_mid_answer_is_answered_once_it_is_back(database_url: str, monkeypatch) -> None:
    """The database goes away at the crisis reply (before the claim), and again after the claim,
    when giving the claim back fails too. The desk tries again as soon as the database answers
    and answers the crisis then, not a lease and a sweep later."""
    desk = Harness(database_url, f"http://127.0.0.1:{free_port()}")
    outage = {"crisis_first": 1, "with_people": 1, "release": 3}
    real_crisis_first, real_with_people = Dispatcher._crisis_first, Dispatcher._with_people
    real_release = routing.processing.release

    def failing(name: str, real):
        def call(*args, **kwargs):
            if outage[name]:
                outage[name] -= 1
                raise OperationalError("SELECT 1", {}, Exception("server closed the connection"))
            return real(*args, **kwargs)

        return call

    monkeypatch.setattr(Dispatcher, "_crisis_first", failing("crisis_first", real_crisis_first))
    monkeypatch.setattr(Dispatcher, "_with_people", failing("with_people", real_with_people))
    monkeypatch.setattr(routing.processing, "release", failing("release", real_release))
    try:
        with pytest.raises(OperationalError):
            desk.say("ida", "ik wil niet meer leven")
        with desk.sessions() as session:
            # the crisis reply comes before the claim: nothing is claimed, nothing answered yet
            assert session.scalars(select(Message.processing)).one() is Processing.pending
            assert not any(map(is_crisis_reply, session.scalars(select(Message.text))))
        desk.loop.run_until_complete(asyncio.sleep(0.6))  # back after 0.25 s: the crisis reply is stored
        with desk.sessions() as session:
            assert any(map(is_crisis_reply, session.scalars(select(Message.text))))
            # then the claim, the outage again and a release that fails: still claimed
            assert session.scalars(select(Message.processing).where(Message.author == "citizen")).one() is (
                Processing.working
            )
        desk.loop.run_until_complete(asyncio.sleep(3.0))  # released 1.75 s after that, then answered
        assert outage == {"crisis_first": 0, "with_people": 0, "release": 0}
        with desk.sessions() as session:
            crisis = session.scalars(select(Message).where(Message.author == "citizen")).one()
            replies = list(session.scalars(select(Message.text).where(Message.reply_to == crisis.id)))
            handoff = session.scalars(select(Handoff)).one()
        assert crisis.processing is Processing.done
        assert sum(map(is_crisis_reply, replies)) == 1
        assert handoff.urgency is Urgency.crisis
    finally:
        desk.close()


@pytest.mark.parametrize(
    ("moment", "staffed"),
    [
        (dt.datetime(2026, 12, 6, 3, 0, tzinfo=AMSTERDAM), False),  # 03:00 on a Sunday
        (dt.datetime(2026, 12, 25, 11, 0, tzinfo=AMSTERDAM), False),  # Christmas, a Friday morning
        (dt.datetime(2026, 12, 1, 11, 0, tzinfo=AMSTERDAM), True),  # a Tuesday morning
    ],
)
def test_a_child_in_danger_hears_of_the_kindertelefoon_and_whether_anyone_is_there(
    database_url: str, moment: dt.datetime, staffed: bool
) -> None:
    desk = Harness(database_url, f"http://127.0.0.1:{free_port()}", clock=lambda: moment, rasa_wait_s=0.5)
    try:
        result = desk.say("kim", "ik ben 13 en mijn vader slaat me elke avond")
        first = result.replies[0].text
        assert is_crisis_reply(first) and "Kindertelefoon" in first and "0800-0432" in first and "112" in first
        assert (NOBODY_NOW in first) is not staffed and (TO_THE_TOP in first) is staffed
        if not staffed:
            assert "om 9.00 uur" in first  # when a worker reads it
        adult = desk.say("lot", "ik wil niet meer leven")
        assert "Kindertelefoon" not in adult.replies[0].text
    finally:
        desk.close()


def test_outside_office_hours_says_when_a_worker_answers(database_url: str, rasa_url: str) -> None:
    desk = Harness(database_url, rasa_url, clock=lambda: SATURDAY_NIGHT)
    try:
        result = desk.say("hans", "ik wil een medewerker spreken")
        assert "Ze reageren maandag om 9.00 uur" in texts(result)
    finally:
        desk.close()


def test_a_photo_with_the_assistant_gets_a_kind_reply(desk: Harness) -> None:
    result = desk.say("ilse", "", attachments=[{"kind": "photo", "file_id": "abc"}])
    assert "kan foto's en bestanden niet lezen" in texts(result)
