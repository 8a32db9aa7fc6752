"""Figures for the admin dashboard over a period the admin picks.

Conversations per day, handoff rate, fallback rate (citizen messages the assistant fell
back on), waiting times from queued to claimed (median, p90) per urgency, and outcomes.
Computed in Python over the period's rows: portable across SQLite and PostgreSQL, and a
municipality's volume (thousands of conversations a month) is small. Conversations that
retention or an erasure deleted still count, from their `ConversationStats` (no text).
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from handoff.store.models import Author, Conversation, ConversationStats, Handoff, Message, as_utc

MAX_DAYS = 366


@dataclass
class Figures:
    start: dt.date
    end: dt.date
    conversations_per_day: dict[str, int] = field(default_factory=dict)
    conversations: int = 0
    handed_off: int = 0
    handoff_rate: float = 0.0
    citizen_messages: int = 0
    fallbacks: int = 0
    fallback_rate: float = 0.0
    waiting_minutes: dict[str, dict[str, float | int]] = field(default_factory=dict)
    outcomes: dict[str, int] = field(default_factory=dict)


def _p90(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]


def figures(session: Session, start: dt.date, end: dt.date) -> Figures:
    """From `start` up to and including `end` (UTC days)."""
    since = dt.datetime.combine(start, dt.time.min, tzinfo=dt.timezone.utc)
    until = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=dt.timezone.utc)
    result = Figures(start=start, end=end)
    days = {(start + dt.timedelta(days=i)).isoformat(): 0 for i in range((end - start).days + 1)}

    conversations = session.execute(
        select(Conversation.id, Conversation.created_at).where(
            Conversation.created_at >= since, Conversation.created_at < until
        )
    ).all()
    for _id, created in conversations:
        days[as_utc(created).date().isoformat()] = days.get(as_utc(created).date().isoformat(), 0) + 1
    archived = session.scalars(
        select(ConversationStats).where(ConversationStats.created_on >= start, ConversationStats.created_on <= end)
    ).all()
    for stats in archived:
        days[stats.created_on.isoformat()] = days.get(stats.created_on.isoformat(), 0) + 1
    result.conversations_per_day = days
    result.conversations = len(conversations) + len(archived)

    handoffs = [
        _Handoff(h.conversation_id, h.urgency.value, _wait(h), h.outcome.value if h.outcome else None)
        for h in session.scalars(select(Handoff).where(Handoff.queued_at >= since, Handoff.queued_at < until))
    ] + _archived_handoffs(session, start, end)
    result.handed_off = len({h.conversation for h in handoffs})
    result.handoff_rate = result.handed_off / result.conversations if result.conversations else 0.0

    waits: dict[str, list[float]] = {"crisis": [], "urgent": [], "normal": []}
    for handoff in handoffs:
        if handoff.wait_minutes is not None:
            waits[handoff.urgency].append(handoff.wait_minutes)
    result.waiting_minutes = {
        urgency: {
            "count": len(values),
            "median": round(statistics.median(values), 1) if values else 0.0,
            "p90": round(_p90(values), 1) if values else 0.0,
        }
        for urgency, values in waits.items()
    }
    result.outcomes = dict(Counter(h.outcome for h in handoffs if h.outcome is not None))

    parses = session.scalars(
        select(Message.nlu).where(
            Message.author == Author.citizen, Message.created_at >= since, Message.created_at < until
        )
    ).all()
    handled = [p for p in parses if p]
    result.citizen_messages = len(handled) + sum(s.citizen_messages for s in archived)
    result.fallbacks = sum(1 for p in handled if p.get("intent") == "nlu_fallback") + sum(s.fallbacks for s in archived)
    result.fallback_rate = result.fallbacks / result.citizen_messages if result.citizen_messages else 0.0
    return result


@dataclass(frozen=True)
class _Handoff:
    conversation: int | str
    """The conversation's id, or a key of its statistics row once the conversation is gone."""
    urgency: str
    wait_minutes: float | None
    outcome: str | None


def _wait(handoff: Handoff) -> float | None:
    if handoff.claimed_at is None:
        return None
    return max(0.0, (as_utc(handoff.claimed_at) - as_utc(handoff.queued_at)).total_seconds() / 60)


def _archived_handoffs(session: Session, start: dt.date, end: dt.date) -> list[_Handoff]:
    """Handoffs of deleted conversations queued in the period (a handoff may be queued on a
    later day than its conversation began, so every statistics row from the period before
    is looked at too)."""
    rows = session.scalars(
        select(ConversationStats).where(
            ConversationStats.created_on >= start - dt.timedelta(days=MAX_DAYS), ConversationStats.created_on <= end
        )
    ).all()
    found = []
    for stats in rows:
        for entry in stats.handoffs or []:
            if start.isoformat() <= str(entry.get("queued_on")) <= end.isoformat():
                wait = entry.get("wait_minutes")
                found.append(
                    _Handoff(
                        f"stats:{stats.id}",
                        str(entry["urgency"]),
                        None if wait is None else float(wait),
                        entry.get("outcome"),
                    )
                )
    return found
