"""Processing state of citizen messages on SQLite and PostgreSQL: a claim is exclusive,
a lease that runs out can be taken again, the sweep finds what a crash left, crisis first."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from handoff.store import conversations as convs
from handoff.store import processing, tracker_retention
from handoff.store.models import Author, Channel, Conversation, Delivery, Message, Outcome, Processing, utcnow


def citizen_message(session: Session, who: str, text: str, *, crisis: bool = False, channel=Channel.widget) -> int:
    conversation = convs.active_conversation(session, convs.citizen_for(session, channel, who))
    message, _ = convs.record_message(session, conversation, Author.citizen, text, crisis=crisis)
    return message.id


def test_a_stored_message_is_pending_and_replies_carry_a_delivery_state(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        widget = convs.active_conversation(session, convs.citizen_for(session, Channel.widget, "w" * 16))
        telegram = convs.active_conversation(session, convs.citizen_for(session, Channel.telegram, "42"))
        asked, _ = convs.record_message(session, widget, Author.citizen, "hoi")
        shown, _ = convs.record_message(session, widget, Author.bot, "hallo", reply_to=asked.id)
        pushed, _ = convs.record_message(session, telegram, Author.worker, "ik help je")
        note, _ = convs.record_message(session, telegram, Author.worker, "notitie", internal=True)
        assert asked.processing is Processing.pending and asked.delivery is None
        assert shown.delivery is Delivery.stored and shown.reply_to == asked.id and shown.processing is None
        assert pushed.delivery is Delivery.pending
        assert note.delivery is None


def test_only_one_of_two_claims_wins_and_finish_makes_it_done(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        message_id = citizen_message(session, "a" * 16, "hoi")
    barrier = threading.Barrier(4)
    wins: list[bool] = []

    def claim() -> None:
        barrier.wait()
        with sessions.begin() as session:
            wins.append(processing.claim(session, message_id))

    threads = [threading.Thread(target=claim) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(wins) == [False, False, False, True]
    with sessions.begin() as session:
        processing.finish(session, message_id)
    with sessions.begin() as session:
        assert not processing.claim(session, message_id), "a done message is never processed again"
        assert session.get(Message, message_id).processing is Processing.done  # type: ignore[union-attr]


def test_a_claim_whose_lease_ran_out_is_taken_again(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        message_id = citizen_message(session, "b" * 16, "hoi")
    past = utcnow() - dt.timedelta(minutes=1)
    with sessions.begin() as session:
        assert processing.claim(session, message_id, lease_s=10, now=past)  # a process that then died
    with sessions.begin() as session:
        assert [u.message_id for u in processing.unanswered(session)] == [message_id]
        assert processing.claim(session, message_id)
        assert processing.unanswered(session) == []  # held again, under a live lease
        assert not processing.claim(session, message_id)
        assert session.get(Message, message_id).attempts == 2  # type: ignore[union-attr]


def test_a_released_claim_is_pending_again(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        message_id = citizen_message(session, "c" * 16, "hoi")
        assert processing.claim(session, message_id)
        processing.release(session, message_id)
        assert session.get(Message, message_id, populate_existing=True).processing is Processing.pending  # type: ignore[union-attr]


def test_the_sweep_finds_crisis_first_then_oldest_and_skips_fresh_ones(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        old = citizen_message(session, "d" * 16, "eerste vraag")
        later = citizen_message(session, "e" * 16, "tweede vraag")
        crisis = citizen_message(session, "f" * 16, "ik wil niet meer leven", crisis=True)
        done = citizen_message(session, "g" * 16, "al beantwoord")
        processing.finish(session, done)
    with sessions() as session:
        assert processing.unanswered(session) == [], "within the grace period the live request answers"
        found = processing.unanswered(session, now=utcnow() + dt.timedelta(seconds=10))
    assert [u.message_id for u in found] == [crisis, old, later]
    assert found[0].crisis


def test_backlog_counts_waiting_messages_and_deliveries(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        citizen_message(session, "h" * 16, "hoi")
        conversation = convs.active_conversation(session, convs.citizen_for(session, Channel.telegram, "9"))
        failed, _ = convs.record_message(session, conversation, Author.bot, "hallo")
        failed.delivery = Delivery.failed
        convs.record_message(session, conversation, Author.bot, "nog een")
    with sessions() as session:
        backlog = processing.backlog(session)
    assert backlog.waiting_for_answer == 1 and backlog.oldest_waiting_s is not None
    assert backlog.deliveries_pending == 1 and backlog.deliveries_failed == 1


def test_trackers_of_closed_conversations_are_deleted_after_the_retention(sessions, tmp_path) -> None:
    from sqlalchemy import text

    from handoff.store.db import create_engine

    trackers = create_engine(f"sqlite:///{tmp_path / 'trackers.db'}")
    with trackers.begin() as conn:  # the table Rasa's SQL tracker store keeps its events in
        conn.execute(text("CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id VARCHAR(255), data TEXT)"))
    with sessions.begin() as session:
        closed = convs.active_conversation(session, convs.citizen_for(session, Channel.widget, "i" * 16))
        open_ = convs.active_conversation(session, convs.citizen_for(session, Channel.widget, "j" * 16))
        convs.close(session, closed, None, Outcome.resolved)
        senders = (closed.rasa_sender_id, open_.rasa_sender_id)
        closed_id = closed.id
    with trackers.begin() as conn:
        for sender in senders:
            conn.execute(text("INSERT INTO events (sender_id, data) VALUES (:s, '{}')"), {"s": sender})
    with sessions.begin() as session:
        assert tracker_retention.purge(session, trackers, dt.timedelta(hours=1)) == 0  # closed just now
    with sessions.begin() as session:
        later = utcnow() + dt.timedelta(hours=2)
        assert tracker_retention.purge(session, trackers, dt.timedelta(hours=1), now=later) == 1
        assert tracker_retention.purge(session, trackers, dt.timedelta(hours=1), now=later) == 0  # once
        assert session.get(Conversation, closed_id).tracker_deleted_at is not None
    with trackers.connect() as conn:
        left = [row[0] for row in conn.execute(text("SELECT sender_id FROM events"))]
    assert left == [senders[1]], "only the closed conversation's tracker goes"
    trackers.dispose()


def test_a_claim_that_ran_out_and_was_taken_again_cannot_finish_renew_or_give_back(
    sessions: sessionmaker[Session],
) -> None:
    """The fence: a process paused past its lease wakes up after another process claimed the
    message; its finish raises (so its transaction rolls back), its renewal and release do nothing."""
    with sessions.begin() as session:
        message_id = citizen_message(session, "fence" * 4, "hoi")
    past = utcnow() - dt.timedelta(minutes=1)
    with sessions.begin() as session:
        paused = processing.claim_status(session, message_id, lease_s=10, now=past)
    with sessions.begin() as session:
        woke = processing.claim_status(session, message_id)
    assert paused is not None and woke is not None and (paused.token, woke.token) == (1, 2)
    with sessions.begin() as session:
        assert not processing.renew(session, message_id, token=paused.token)
        processing.release(session, message_id, paused.token)
    with sessions() as session:
        held = session.get(Message, message_id)
        assert held is not None and held.processing is Processing.working, "the live claim is not given back"
    with pytest.raises(processing.ClaimLost), sessions.begin() as session:
        conversation = session.get(Message, message_id).conversation  # type: ignore[union-attr]
        convs.record_message(session, conversation, Author.bot, "antwoord van de gepauzeerde", reply_to=message_id)
        processing.finish(session, message_id, paused.token)
    with sessions.begin() as session:
        assert processing.renew(session, message_id, token=woke.token)
        processing.finish(session, message_id, woke.token)
    with sessions() as session:
        replies = session.scalars(select(Message.text).where(Message.reply_to == message_id)).all()
        assert replies == [], "the lost claim's answer was rolled back with its finish"
        assert session.get(Message, message_id).processing is Processing.done  # type: ignore[union-attr]
    with pytest.raises(processing.ClaimLost), sessions.begin() as session:
        processing.finish(session, message_id, woke.token)  # done already: not twice
