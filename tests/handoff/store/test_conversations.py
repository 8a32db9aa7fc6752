"""Conversation store and state machine, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import inspect, select
from sqlalchemy.orm import Session, sessionmaker

from handoff.store import conversations as convs
from handoff.store.models import AuditLog, Author, Channel, ConversationStatus, Outcome, Urgency, Worker


def make_worker(session: Session, name: str, limit: int = 5) -> Worker:
    worker = Worker(name=name, password_hash="x", max_concurrent=limit)
    session.add(worker)
    session.flush()
    return worker


def queued_conversation(session: Session, who: str, urgency: Urgency = Urgency.normal):
    citizen = convs.citizen_for(session, Channel.widget, who)
    conversation = convs.active_conversation(session, citizen, source="huisarts")
    convs.queue(session, conversation, reason="request_human", urgency=urgency, domains=["financien"], summary="s")
    return conversation


def test_migrations_create_every_table(engine) -> None:
    tables = set(inspect(engine).get_table_names())
    assert {"citizens", "conversations", "messages", "handoffs", "workers", "audit_log", "alembic_version"} <= tables


def test_the_state_machine_allows_the_documented_path_only(sessions) -> None:
    with sessions.begin() as session:
        worker = make_worker(session, "anna")
        conversation = convs.active_conversation(session, convs.citizen_for(session, Channel.telegram, "42"))
        assert conversation.status is ConversationStatus.bot
        with pytest.raises(convs.IllegalTransition):
            convs.hand_back(session, conversation, worker)  # bot → bot is not a transition
        convs.queue(session, conversation, reason="request_human")
        convs.claim(session, conversation.id, worker)
        convs.hand_back(session, conversation, worker)
        assert conversation.status is ConversationStatus.bot
        convs.queue(session, conversation, reason="triage")
        convs.claim(session, conversation.id, worker)
        convs.close(session, conversation, worker, Outcome.referred, "doorverwezen naar schuldhulp")
        with pytest.raises(convs.IllegalTransition):
            convs.queue(session, conversation, reason="request_human")
        # a closed conversation is never reopened: the citizen gets a new one
        again = convs.active_conversation(session, conversation.citizen)
        assert again.id != conversation.id and again.status is ConversationStatus.bot
        actions = session.scalars(select(AuditLog.action).order_by(AuditLog.id)).all()
        assert actions == ["queue", "claim", "hand_back", "queue", "claim", "close"]


def test_a_redelivered_message_is_recognised(sessions) -> None:
    with sessions.begin() as session:
        conversation = convs.active_conversation(session, convs.citizen_for(session, Channel.telegram, "7"))
        first, created = convs.record_message(session, conversation, Author.citizen, "hoi", dedupe_key="tg:update:1")
        again, created_again = convs.record_message(
            session, conversation, Author.citizen, "hoi", dedupe_key="tg:update:1"
        )
        assert created and not created_again and first.id == again.id


def test_queue_order_is_crisis_urgent_normal_then_waiting_time(sessions) -> None:
    with sessions.begin() as session:
        normal_old = queued_conversation(session, "a")
        time.sleep(0.01)
        urgent = queued_conversation(session, "b", Urgency.urgent)
        time.sleep(0.01)
        normal_new = queued_conversation(session, "c")
        time.sleep(0.01)
        crisis = queued_conversation(session, "d", Urgency.crisis)
        order = [h.conversation_id for h in convs.waiting(session)]
        assert order == [crisis.id, urgent.id, normal_old.id, normal_new.id]
        # a crisis while already waiting jumps ahead of everyone not in crisis; among crises,
        # who waited longest goes first
        convs.queue(session, normal_new, reason="crisis", urgency=Urgency.crisis)
        order = [h.conversation_id for h in convs.waiting(session)]
        assert order == [normal_new.id, crisis.id, urgent.id, normal_old.id]


def _race(sessions: sessionmaker[Session], conversation_id: int, worker_ids: list[int]) -> list[str]:
    barrier = threading.Barrier(len(worker_ids))
    results: list[str] = []
    lock = threading.Lock()

    def attempt(worker_id: int) -> None:
        barrier.wait()
        try:
            with sessions.begin() as session:
                worker = session.get(Worker, worker_id)
                assert worker is not None
                convs.claim(session, conversation_id, worker)
            outcome = f"won:{worker_id}"
        except convs.ClaimConflict:
            outcome = "conflict"
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=attempt, args=(w,)) for w in worker_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def test_two_workers_claiming_at_once_exactly_one_gets_it(sessions) -> None:
    with sessions.begin() as session:
        workers = [make_worker(session, "anna", limit=100).id, make_worker(session, "bram", limit=100).id]
        conversation_ids = [queued_conversation(session, f"c{i}").id for i in range(15)]
    for conversation_id in conversation_ids:
        results = _race(sessions, conversation_id, workers)
        assert sorted(r.split(":")[0] for r in results) == ["conflict", "won"], results
    with sessions() as session:
        assert all(h.claimed_at is not None for h in session.scalars(select(convs.Handoff)))


def test_double_click_on_claim_is_a_conflict_not_a_second_claim(sessions) -> None:
    with sessions.begin() as session:
        worker = make_worker(session, "anna")
        conversation = queued_conversation(session, "x")
        convs.claim(session, conversation.id, worker)
        with pytest.raises(convs.ClaimConflict):
            convs.claim(session, conversation.id, worker)


def test_claim_next_hands_different_chats_to_concurrent_workers(sessions) -> None:
    with sessions.begin() as session:
        worker_ids = [make_worker(session, f"w{i}").id for i in range(3)]
        for i in range(3):
            queued_conversation(session, f"q{i}")
    taken: list[int] = []
    lock = threading.Lock()
    barrier = threading.Barrier(3)

    def take(worker_id: int) -> None:
        barrier.wait()
        with sessions.begin() as session:
            worker = session.get(Worker, worker_id)
            assert worker is not None
            handoff = convs.claim_next(session, worker)
            assert handoff is not None
            with lock:
                taken.append(handoff.conversation_id)

    threads = [threading.Thread(target=take, args=(w,)) for w in worker_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(taken) == 3 and len(set(taken)) == 3


def test_worker_limit_and_transfer(sessions) -> None:
    with sessions.begin() as session:
        anna = make_worker(session, "anna", limit=1)
        bram = make_worker(session, "bram", limit=1)
        first = queued_conversation(session, "1")
        second = queued_conversation(session, "2")
        convs.claim(session, first.id, anna)
        with pytest.raises(convs.LimitReached):
            convs.claim(session, second.id, anna)
        convs.transfer(session, first, anna, bram)
        assert first.worker_id == bram.id
        convs.claim(session, second.id, anna)
        with pytest.raises(convs.LimitReached):
            convs.transfer(session, second, anna, bram)
