"""The fenced tracker store: of two Rasa servers that loaded the same conversation, only the
first save lands; the late one (a replica that froze mid-message and woke up after the desk
moved the conversation) is dropped instead of doubling the turn. On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterator
from typing import Any

import psycopg2
import pytest
import sqlalchemy as sa
from rasa.core.tracker_store import TrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from baken_core.rasa_endpoints import TrackerDatabase
from baken_nlu.tracker_store import FencedSQLTrackerStore, advisory_key

POSTGRES = {"host": "127.0.0.1", "port": 5432, "user": "postgres", "dbname": "postgres"}
DOMAIN = Domain.from_dict({"slots": {"urgency": {"type": "text", "mappings": [{"type": "custom"}]}}})


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[TrackerDatabase]:
    if request.param == "sqlite":
        yield TrackerDatabase("sqlite", str(tmp_path / "trackers.db"))
        return
    name = f"baken_trackers_{secrets.token_hex(4)}"
    yield TrackerDatabase("postgresql", name, host="127.0.0.1", port=5432, username="postgres")
    admin = psycopg2.connect(**POSTGRES)
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


def replica(database: TrackerDatabase) -> TrackerStore:
    """A tracker store as a Rasa server builds it from the endpoints file Baken writes."""
    store = TrackerStore.create(EndpointConfig.from_dict(database.rasa_config()), DOMAIN)
    inner = getattr(store, "_tracker_store", store)  # Rasa wraps it in a FailSafeTrackerStore
    assert isinstance(inner, FencedSQLTrackerStore)
    return inner


def texts(tracker: DialogueStateTracker | None) -> list[str]:
    assert tracker is not None
    return [str(e.text) for e in tracker.events if isinstance(e, (UserUttered, BotUttered))]


def test_a_late_save_from_a_second_replica_is_dropped(database: TrackerDatabase) -> None:
    async def scenario() -> None:
        a, b = replica(database), replica(database)
        first = DialogueStateTracker("widget-1", DOMAIN.slots)
        first.update(UserUttered("hallo", message_id="m1"))
        first.update(BotUttered("Hoi!"))
        await a.save(first)

        on_a = await a.retrieve("widget-1")  # replica A loads the conversation ... and freezes
        on_b = await b.retrieve("widget-1")  # the desk moves it to B, which answers
        assert on_a is not None and on_b is not None
        on_b.update(UserUttered("ik heb huurschuld", message_id="m2"))
        on_b.update(BotUttered("Dat is vervelend."))
        await b.save(on_b)

        # A wakes up with its own, longer version of the same turn (Rasa's own store would append
        # whatever of it lies beyond the events now stored)
        on_a.update(UserUttered("ik heb huurschuld", message_id="m2"))
        on_a.update(SlotSet("urgency", "normal"))
        on_a.update(BotUttered("Late reply"))
        on_a.update(BotUttered("Nog een late reply"))
        await a.save(on_a)

        stored = await b.retrieve("widget-1")
        assert texts(stored) == ["hallo", "Hoi!", "ik heb huurschuld", "Dat is vervelend."]
        assert stored is not None and stored.get_slot("urgency") is None
        assert len(stored.events) == 4

    asyncio.run(scenario())


def test_one_replica_saves_as_often_as_it_likes(database: TrackerDatabase) -> None:
    async def scenario() -> None:
        a = replica(database)
        tracker = DialogueStateTracker("telegram-9", DOMAIN.slots)
        for n in range(3):  # the same object saved again and again (Rasa's API endpoints do this)
            tracker.update(UserUttered(f"bericht {n}", message_id=f"m{n}"))
            await a.save(tracker)
        loaded = await a.retrieve("telegram-9")
        assert loaded is not None
        loaded.update(BotUttered("Antwoord"))
        await a.save(loaded)
        assert texts(await replica(database).retrieve("telegram-9")) == [
            "bericht 0",
            "bericht 1",
            "bericht 2",
            "Antwoord",
        ]

    asyncio.run(scenario())


def test_a_save_that_starts_a_new_session_counts_that_session(database: TrackerDatabase) -> None:
    """The count the next save checks is derived without a second query, except when a new
    session starts in a save: then only that session's events count (Rasa's own query)."""

    async def scenario() -> None:
        a = replica(database)
        tracker = DialogueStateTracker("widget-s", DOMAIN.slots)
        tracker.update(UserUttered("oud gesprek", message_id="m0"))
        await a.save(tracker)
        loaded = await a.retrieve("widget-s")
        assert loaded is not None
        for event in (ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen")):
            loaded.update(event)
        loaded.update(UserUttered("nieuwe sessie", message_id="m1"))
        await a.save(loaded)
        loaded.update(BotUttered("Welkom terug"))  # the same object saved again, as Rasa's API does
        await a.save(loaded)
        again = await replica(database).retrieve("widget-s")
        assert texts(again) == ["nieuwe sessie", "Welkom terug"]
        assert again is not None and len(again.events) == 4  # SessionStarted, listen, user, bot

    asyncio.run(scenario())


def test_two_replicas_starting_the_same_new_conversation_keep_one(database: TrackerDatabase) -> None:
    async def scenario() -> None:
        a, b = replica(database), replica(database)
        assert await a.retrieve("widget-new") is None and await b.retrieve("widget-new") is None
        for store, answers in ((b, ["van B"]), (a, ["van A", "nog eens van A"])):
            tracker = DialogueStateTracker("widget-new", DOMAIN.slots)
            tracker.update(UserUttered("hallo", message_id="m1"))
            for answer in answers:
                tracker.update(BotUttered(answer))
            await store.save(tracker)
        assert texts(await a.retrieve("widget-new")) == ["hallo", "van B"]

    asyncio.run(scenario())


def test_the_lock_key_is_stable_and_fits_in_a_bigint() -> None:
    keys = {advisory_key(f"widget-{i}") for i in range(1000)}
    assert len(keys) == 1000
    assert all(-(2**63) <= k < 2**63 for k in keys)
    assert advisory_key("widget-1") == advisory_key("widget-1")


def test_database_errors_never_show_the_citizens_words(database: TrackerDatabase) -> None:
    """SQLAlchemy puts a failed statement's parameters into its message, and so into Rasa's log."""
    inner = replica(database)
    assert isinstance(inner, FencedSQLTrackerStore)
    with pytest.raises(sa.exc.StatementError) as raised, inner.session_scope() as session:
        session.execute(
            sa.text("INSERT INTO no_such_table (x) VALUES (:x)"), {"x": "mijn schuld bij de woningcorporatie"}
        )
    assert "woningcorporatie" not in str(raised.value)
    assert "hidden" in str(raised.value)
