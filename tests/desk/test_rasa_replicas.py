"""Two Rasa servers on one PostgreSQL tracker store behind one desk (issue 13): each conversation
goes to one replica; SIGKILL one while messages are under way and its conversations go on at
the other with their slots; it comes back and the conversations go on. Every citizen message is answered
by the assistant once, and Rasa hears every message once (no turn lost or doubled), also in
the replica that comes back."""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from baken_core.rasa_endpoints import tracker_database
from bot.rasa_pool import rendezvous_order
from bot.routing.texts import RASA_DOWN
from handoff.store.db import create_engine, session_factory
from handoff.store.models import Author, Citizen, Conversation, ConversationStatus, Message, Processing
from stack.desk import DeskProcess
from stack.processes import MODEL, wait_until
from stack.rasa import RasaServer, action_server
from tests.databases import POSTGRES_SERVER, empty_tables
from tests.desk.test_faults import replies_to, tracker, user_turns

pytestmark = [pytest.mark.faults, pytest.mark.rasa]

TURNS = (
    "ik kan de huur niet meer betalen en de verhuurder dreigt met ontruiming",
    "hoe vraag ik huurtoeslag aan",
    "hoe vraag ik zorgtoeslag aan",
)


@pytest.fixture(scope="module")
def actions(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with action_server(tmp_path_factory.mktemp("actions")) as url:
        yield url


def test_a_killed_replica_hands_its_conversations_to_the_other(postgres_url: str, actions: str, tmp_path: Path) -> None:
    assert MODEL.exists(), "no trained model: run `make train`"
    trackers = tracker_database(postgres_url)
    replicas = [RasaServer(MODEL, tmp_path / f"rasa-{n}", actions, tracker=trackers.rasa_config()) for n in (1, 2)]
    urls = [r.url for r in replicas]
    desk = DeskProcess(postgres_url, ",".join(urls), tmp_path, RASA_TIMEOUT_S="20")
    engine = create_engine(postgres_url)
    sessions = session_factory(engine)
    try:
        for replica in replicas:  # both start loading at once
            replica.start(wait=False)
        for replica in replicas:
            replica.wait_ready()
        desk.start()

        # first turn: conversations until each replica is the home of at least two
        homes: dict[str, str] = {}  # visitor -> home replica URL
        while min(Counter(homes.values()).get(url, 0) for url in urls) < 2:
            assert len(homes) < 24, "the hash never chose one of the replicas"
            visitor = "replica-" + uuid.uuid4().hex[:16]
            desk.say(visitor, f"{visitor}-0", TURNS[0])
            with sessions() as session:
                sender = session.scalars(
                    select(Conversation.rasa_sender_id)
                    .join(Citizen, Citizen.id == Conversation.citizen_id)
                    .where(Citizen.external_id == visitor)
                ).one()
            homes[visitor] = rendezvous_order(sender, urls)[0]
        senders = sender_ids(sessions)
        domains_before = {v: triage_domains(urls[0], senders[v]) for v in homes}
        assert all(domains_before.values()), domains_before  # turn 1 set the triage slots

        # second turn for everyone; the first replica is killed while those messages are under way
        killed = replicas[0]
        threads = [threading.Thread(target=desk.say, args=(v, f"{v}-1", TURNS[1])) for v in homes]
        for thread in threads:
            thread.start()
        killed.kill()
        for thread in threads:
            thread.join(timeout=180)
        assert not any(t.is_alive() for t in threads)
        survivor = replicas[1].url
        for visitor in homes:  # the context went with the conversation, whichever replica answered
            assert domains_before[visitor] <= triage_domains(survivor, senders[visitor])
            assert user_turns(survivor, senders[visitor]) == list(TURNS[:2])

        # the killed replica comes back; the conversations go on
        killed.start()
        for visitor in homes:
            desk.say(visitor, f"{visitor}-2", TURNS[2])

        def all_done() -> bool:
            with sessions() as session:
                states = session.scalars(select(Message.processing).where(Message.author == Author.citizen)).all()
            return len(states) == 3 * len(homes) and all(s is Processing.done for s in states)

        wait_until(all_done, 120, "every citizen message answered")
        with sessions() as session:
            conversations = session.scalars(select(Conversation)).all()
            citizen = session.execute(select(Message.id, Message.text).where(Message.author == Author.citizen)).all()
        assert len(conversations) == len(homes) and all(c.status is ConversationStatus.bot for c in conversations)
        for message_id, text in citizen:
            answers = replies_to(sessions, message_id)
            assert answers and RASA_DOWN not in answers, (text, answers)
            assert len(answers) == len(set(answers)), ("answered twice", text, answers)
        for visitor in homes:  # Rasa heard each message once, in order, whichever replica it was
            assert user_turns(survivor, senders[visitor]) == list(TURNS)
            assert user_turns(killed.url, senders[visitor]) == list(TURNS)
    finally:
        desk.kill()
        for replica in replicas:
            replica.kill()
        empty_tables(engine)
        engine.dispose()
        with psycopg.connect(POSTGRES_SERVER, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{trackers.database}" WITH (FORCE)')


def sender_ids(sessions: sessionmaker[Session]) -> dict[str, str]:
    with sessions() as session:
        query = select(Citizen.external_id, Conversation.rasa_sender_id)
        rows = session.execute(query.join(Citizen, Citizen.id == Conversation.citizen_id)).all()
    return {external: sender for external, sender in rows}


def triage_domains(rasa_url: str, sender: str) -> set[str]:
    return set(tracker(rasa_url, sender)["slots"].get("triage_domains") or [])
