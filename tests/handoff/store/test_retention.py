"""Retention deletes exactly what it should, when it should, and the dashboard still counts:
on SQLite and PostgreSQL (handoff/store/retention.py, forget.py)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from handoff.admin.dashboard import figures
from handoff.config import DeskSettings
from handoff.store import retention
from handoff.store.attachments import AttachmentMissing, AttachmentStore
from handoff.store.forget import run_purge_tasks
from handoff.store.models import (
    AuditLog,
    Citizen,
    Conversation,
    ConversationStats,
    ConversationStatus,
    Handoff,
    Message,
    NluInboxItem,
    PurgeTask,
    utcnow,
)
from tests.handoff.store.history import WORDS, conversation, tracker_senders, tracker_store

POLICY = retention.Policy()  # the defaults: 90 days, summaries and attachments 30, audit 365


def count(session: Session, model: type, *where: Any) -> int:
    return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def test_each_kind_goes_after_its_own_period_and_nothing_else_does(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    store, trackers = AttachmentStore(tmp_path / "files"), tracker_store(tmp_path)
    now = utcnow()
    with sessions.begin() as session:
        old = conversation(
            session, "old-1234567890ab", days_ago=120, closed_days_ago=100, store=store, trackers=trackers, now=now
        )
        middle = conversation(
            session, "mid-1234567890ab", days_ago=45, closed_days_ago=40, store=store, trackers=trackers, now=now
        )
        recent = conversation(
            session, "new-1234567890ab", days_ago=12, closed_days_ago=10, store=store, trackers=trackers, now=now
        )
        waiting = conversation(
            session, "wait-234567890ab", days_ago=200, status=ConversationStatus.queued, store=store, now=now
        )
        idle = conversation(session, "idle-234567890ab", days_ago=120, status=ConversationStatus.bot, now=now)
        active = conversation(session, "busy-234567890ab", days_ago=1, status=ConversationStatus.bot, now=now)

    with sessions.begin() as session:
        report = retention.run(session, POLICY, now)
    assert run_purge_tasks(sessions, store, trackers) == 4  # the files of old and middle, the trackers of old and idle
    assert dataclasses.asdict(report) == {
        "attachments": 2,  # old and middle: closed more than 30 days ago
        "summaries": 2,
        "idle_closed": 1,
        "conversations": 2,  # old and idle
        "audit_entries": 0,
    }
    with sessions() as session:
        kept = set(session.scalars(select(Conversation.id)))
        assert kept == {middle.conversation_id, recent.conversation_id, waiting.conversation_id, active.conversation_id}
        for gone in (old, idle):
            assert count(session, Message, Message.conversation_id == gone.conversation_id) == 0
            assert count(session, Handoff, Handoff.conversation_id == gone.conversation_id) == 0
            assert session.get(Citizen, gone.citizen_id) is None
        # middle: files gone, a line says so; summary and case note emptied; messages kept
        photo = session.scalars(
            select(Message).where(Message.conversation_id == middle.conversation_id, Message.attachments.is_not(None))
        ).one()
        assert photo.attachments == [{"kind": "photo", "note": retention.REMOVED_NOTE}]
        handoff = session.scalars(select(Handoff).where(Handoff.conversation_id == middle.conversation_id)).one()
        assert (handoff.summary, handoff.case_note) == ("", None)
        # recent: untouched
        handoff = session.scalars(select(Handoff).where(Handoff.conversation_id == recent.conversation_id)).one()
        assert handoff.summary == WORDS
        # retention unlinks the NLU inbox item (masked, with its own retention) rather than deleting it
        assert count(session, NluInboxItem) == 6
        assert count(session, NluInboxItem, NluInboxItem.message_id.is_(None)) == 2
        # audit entries of a deleted conversation keep its number, not the link
        numbers = {entry.detail.get("conversation") for entry in session.scalars(select(AuditLog)) if entry.detail}
        assert old.conversation_id in numbers
        assert count(session, PurgeTask) == 0
    for made in (old, middle):
        with pytest.raises(AttachmentMissing):
            store.read(made.token or "")
    assert store.read(recent.token or "") and store.read(waiting.token or "")
    assert tracker_senders(trackers) == {middle.sender, recent.sender}


def test_the_dashboard_counts_the_same_before_and_after(sessions: sessionmaker[Session], tmp_path: Path) -> None:
    now = utcnow()
    with sessions.begin() as session:
        conversation(session, "old-1234567890ab", days_ago=120, closed_days_ago=100, now=now)
        conversation(session, "old-2234567890ab", days_ago=119, closed_days_ago=95, now=now)
        conversation(session, "idle-234567890ab", days_ago=118, status=ConversationStatus.bot, now=now)
        conversation(session, "new-1234567890ab", days_ago=5, closed_days_ago=4, now=now)
    period = ((now - dt.timedelta(days=150)).date(), now.date())
    with sessions() as session:
        before = figures(session, *period)
    with sessions.begin() as session:
        assert retention.run(session, POLICY, now).conversations == 3
    with sessions() as session:
        after = figures(session, *period)
        assert count(session, ConversationStats) == 3
        assert count(session, Conversation) == 1
        texts = [repr(row.handoffs) for row in session.scalars(select(ConversationStats))]
    assert before.conversations == 4 and before.handed_off == 3
    assert dataclasses.asdict(after) == dataclasses.asdict(before)
    assert not any("bedreigt" in t for t in texts)


def test_a_second_round_finds_nothing_and_audit_entries_go_after_a_year(sessions: sessionmaker[Session]) -> None:
    now = utcnow()
    with sessions.begin() as session:
        conversation(session, "old-1234567890ab", days_ago=400, closed_days_ago=399, now=now)
        conversation(session, "new-1234567890ab", days_ago=3, closed_days_ago=2, now=now)
    with sessions.begin() as session:
        first = retention.run(session, POLICY, now)
    with sessions.begin() as session:
        second = retention.run(session, POLICY, now)
        left = session.scalars(select(AuditLog.at)).all()
    assert first.conversations == 1 and first.audit_entries >= 3
    assert second.total() == 0
    assert left and all(at.replace(tzinfo=dt.timezone.utc) > now - POLICY.audit for at in left)


def test_a_purge_that_cannot_reach_the_tracker_store_is_done_later(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    store, trackers = AttachmentStore(tmp_path / "files"), tracker_store(tmp_path)
    now = utcnow()
    with sessions.begin() as session:
        old = conversation(session, "old-1234567890ab", days_ago=120, closed_days_ago=100, trackers=trackers, now=now)
        retention.run(session, POLICY, now)
    away = create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none", connect_args={"connect_timeout": 2})
    assert run_purge_tasks(sessions, store, away) == 0
    with sessions() as session:
        assert session.scalars(select(PurgeTask.attempts)).all() == [1]
    assert old.sender in tracker_senders(trackers)
    assert run_purge_tasks(sessions, store, trackers) == 1
    assert tracker_senders(trackers) == set()


def test_settings_refuse_parts_that_outlive_their_conversation() -> None:
    with pytest.raises(ValueError, match="RETENTION_SUMMARY_DAYS"):
        DeskSettings(retention_conversation_days=20, retention_summary_days=30, retention_attachment_days=10)
    policy = retention.Policy.from_settings(DeskSettings(retention_conversation_days=60, retention_attachment_days=7))
    assert policy.conversations == dt.timedelta(days=60) and policy.attachments == dt.timedelta(days=7)
