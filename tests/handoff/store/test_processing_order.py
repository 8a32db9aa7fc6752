"""A claim is ordered per conversation (handoff/store/processing.py): the earliest unfinished
citizen message of a conversation goes first, one message of a conversation at a time, on
SQLite and on PostgreSQL; on PostgreSQL also when two processes claim at the same instant."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from baken_core import crisis
from handoff.store import conversations as convs
from handoff.store import processing
from handoff.store.models import Author, Channel, Citizen, Conversation, Message, Processing, utcnow
from tests.databases import Processes


def conversation_with(session: Session, who: str, *texts: str) -> list[int]:
    """The ids of `texts`, stored as citizen messages of one conversation, in order."""
    conversation = convs.active_conversation(session, convs.citizen_for(session, Channel.widget, who))
    return [convs.record_message(session, conversation, Author.citizen, text)[0].id for text in texts]


def claims(sessions: sessionmaker[Session], message_id: int, **kwargs) -> bool:
    with sessions.begin() as session:
        return processing.claim(session, message_id, **kwargs)


def test_a_later_message_waits_until_the_earlier_one_is_done(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        first, second = conversation_with(session, "a" * 16, "eerste vraag", "tweede vraag")
        (elsewhere,) = conversation_with(session, "b" * 16, "een ander gesprek")
    assert not claims(sessions, second), "the first message is still pending"
    assert claims(sessions, elsewhere), "another conversation is not held up"
    assert claims(sessions, first)
    assert not claims(sessions, second), "the first message is being answered"
    with sessions.begin() as session:
        assert processing.finish(session, first) == second, "who finishes the first takes the second next"
    assert claims(sessions, second)
    assert not claims(sessions, second), "held under a live lease"
    with sessions.begin() as session:
        assert processing.finish(session, second) is None


def test_a_released_earlier_message_goes_first_again(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        first, second = conversation_with(session, "c" * 16, "eerste vraag", "tweede vraag")
    assert claims(sessions, first)
    with sessions.begin() as session:
        processing.release(session, first)  # a process stopping gave it back unanswered
    assert not claims(sessions, second)
    assert claims(sessions, first)


def test_after_a_crash_the_sweep_takes_the_first_message_again_not_the_second(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        first, second = conversation_with(session, "d" * 16, "eerste vraag", "tweede vraag")
    past = utcnow() - dt.timedelta(minutes=1)
    assert claims(sessions, first, lease_s=10, now=past)  # a process that then died
    later = utcnow() + dt.timedelta(seconds=10)
    with sessions() as session:
        found = processing.unanswered(session, now=later)
        assert [u.message_id for u in found] == [first, second], "each conversation's earliest first"
    assert not claims(sessions, second), "the first message's lease ran out, it is not done"
    assert claims(sessions, first)
    assert not claims(sessions, second)
    with sessions.begin() as session:
        assert session.get(Message, first).attempts == 2  # type: ignore[union-attr]
        assert session.get(Message, second).processing is Processing.pending  # type: ignore[union-attr]


def test_a_later_message_held_by_a_live_lease_keeps_an_earlier_one_waiting(sessions: sessionmaker[Session]) -> None:
    """An earlier message that became visible late (a slower transaction stored it) waits
    for the one being answered: one message of a conversation at a time."""
    with sessions.begin() as session:
        first, second = conversation_with(session, "e" * 16, "eerste vraag", "tweede vraag")
        session.get(Message, first).processing = Processing.done  # type: ignore[union-attr]
    assert claims(sessions, second)
    with sessions.begin() as session:
        session.get(Message, first).processing = Processing.pending  # type: ignore[union-attr]
    assert not claims(sessions, first), "the second message is being answered"


ROUNDS = 200


def test_two_claims_of_one_conversation_at_the_same_instant_never_both_win(postgres_processes: Processes) -> None:
    """Two processes (two engines, two connections) claim message 1 and message 2 of one
    conversation at the same instant, in each of ROUNDS conversations: at most one wins."""
    makers = postgres_processes(2)
    with makers[0].begin() as session:
        pairs = [conversation_with(session, f"race-{n:04d}-" + "f" * 6, "een", "twee") for n in range(ROUNDS)]
    barrier = threading.Barrier(2)
    wins: list[list[bool]] = [[False, False] for _ in range(ROUNDS)]

    def claimer(side: int) -> None:
        for round_, pair in enumerate(pairs):
            barrier.wait(timeout=30)
            wins[round_][side] = claims(makers[side], pair[side])

    threads = [threading.Thread(target=claimer, args=(side,)) for side in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    both = sum(1 for first, second in wins if first and second)
    assert both == 0, f"both messages of one conversation claimed in {both} of {ROUNDS} rounds"
    assert all(first for first, _ in wins), "the first message is the one that goes"


def claims_after_a_read(sessions: sessionmaker[Session], message_id: int) -> bool:
    """As the dispatcher claims: its read of the message takes the lock, the claim after it does not."""
    with sessions.begin() as session:
        lock = processing.conversation_lock(session)
        assert lock is not None
        session.execute(select(Message.id, lock).where(Message.id == message_id)).one()
        return processing.claim(session, message_id, locked=True)


@pytest.mark.parametrize("claimer", [claims, claims_after_a_read], ids=["own-statement", "caller's-read"])
def test_a_claim_waits_for_a_concurrent_uncommitted_claim_of_its_conversation(
    postgres_processes: Processes, claimer
) -> None:
    """Where NOT EXISTS alone loses on PostgreSQL: message 1 is stored by a transaction that
    commits after message 2 was stored. Process B claims message 2 (not committed yet, so
    message 1 is not visible to it); message 1 commits; process A claims message 1 and its
    NOT EXISTS sees message 2 still `pending` (B's claim is uncommitted). Without the
    conversation's transaction lock both win; with it A waits for B's commit and sees
    message 2 `working`."""
    (sessions,) = postgres_processes(1)
    with sessions.begin() as session:
        conversation = convs.active_conversation(session, convs.citizen_for(session, Channel.widget, "g" * 16))
        conversation_id = conversation.id
    slow = sessions()  # stores message 1, commits late
    first = convs.record_message(slow, _get(slow, conversation_id), Author.citizen, "eerste vraag")[0].id
    with sessions.begin() as session:
        second = convs.record_message(session, _get(session, conversation_id), Author.citizen, "tweede")[0].id
    assert first < second
    b = sessions()
    assert processing.claim(b, second), "message 1 is not visible yet"  # B's lock, held till B commits
    slow.commit()
    slow.close()
    won: list[bool] = []
    a = threading.Thread(target=lambda: won.append(claimer(sessions, first)))
    a.start()
    a.join(timeout=0.5)
    b.commit()
    b.close()
    a.join(timeout=10)
    assert won == [False], "two messages of one conversation claimed at once"
    with sessions.begin() as session:
        assert processing.finish(session, second) == first, "then the one that came late"
    assert claims(sessions, first)


def _get(session: Session, conversation_id: int) -> Conversation:
    conversation = session.get(Conversation, conversation_id)
    assert conversation is not None
    return conversation


def test_of_two_processes_checking_at_once_only_one_stores_the_crisis_reply(postgres_processes: Processes) -> None:
    """The crisis reply comes before the claim (it never waits for an earlier message), so the
    claim does not keep two processes from both giving it: the conversation's lock does."""
    (sessions,) = postgres_processes(1)
    with sessions.begin() as session:
        (message_id,) = conversation_with(session, "h" * 16, "ik wil niet meer leven")
        conversation_id = session.get(Message, message_id).conversation_id  # type: ignore[union-attr]
    first = sessions()
    assert processing.crisis_reply_due(first, message_id, conversation_id)
    convs.record_message(
        first, _get(first, conversation_id), Author.system, crisis.OPENING + " 113", reply_to=message_id
    )
    due: list[bool] = []

    def second() -> None:
        with sessions.begin() as session:
            due.append(processing.crisis_reply_due(session, message_id, conversation_id))

    other = threading.Thread(target=second)
    other.start()
    other.join(timeout=0.5)
    first.commit()
    first.close()
    other.join(timeout=10)
    assert due == [False], "two crisis replies to one message"


def test_a_message_stored_late_through_another_process_still_goes_first(postgres_processes: Processes) -> None:
    """Storing holds the conversation's claim lock (`active_conversation(..., hold=True)`, as the
    dispatcher stores): message 2, stored and claimed by process B while process A's storing of
    message 1 has not committed yet, waits for it and is then refused, so message 1 goes first.
    Without the lock B stores and claims message 2 at once and the citizen's questions are
    answered out of order."""
    (sessions,) = postgres_processes(1)
    with sessions.begin() as session:
        citizen = convs.citizen_for(session, Channel.widget, "h" * 16)
        convs.active_conversation(session, citizen)
        citizen_id = citizen.id
    slow = sessions()  # process A: stores message 1, commits late
    conversation = convs.active_conversation(slow, _citizen(slow, citizen_id), hold=True)
    first = convs.record_message(slow, conversation, Author.citizen, "eerste vraag")[0].id
    outcome: dict[str, object] = {}

    def process_b() -> None:
        with sessions.begin() as session:
            later = convs.active_conversation(session, _citizen(session, citizen_id), hold=True)
            outcome["second"] = convs.record_message(session, later, Author.citizen, "tweede vraag")[0].id
        outcome["claimed"] = claims(sessions, int(outcome["second"]))  # type: ignore[call-overload]

    b = threading.Thread(target=process_b)
    b.start()
    b.join(timeout=0.5)
    assert b.is_alive(), "message 2 was stored while message 1's storing had not committed"
    slow.commit()
    slow.close()
    b.join(timeout=10)
    assert not b.is_alive()
    assert outcome["claimed"] is False, "message 2 claimed before message 1"
    assert first < int(outcome["second"])  # type: ignore[call-overload]
    assert claims(sessions, first)


def _citizen(session: Session, citizen_id: int) -> Citizen:
    citizen = session.get(Citizen, citizen_id)
    assert citizen is not None
    return citizen
