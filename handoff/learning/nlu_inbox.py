"""The admins' NLU inbox: citizen messages the assistant was unsure about, masked first.

A message becomes a candidate when the assistant fell back (`nlu_fallback`), was not
confident, hesitated between two intents, handed off because it did not understand, or a
worker flagged it ("de assistent begreep dit verkeerd"). Before anything is stored here,
personal data is masked (baken_core.pii): BSN, IBAN, phone, e-mail, address, names. Items
expire after a retention period. Near-identical messages share a group key and show once.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from baken_core.pii import mask
from handoff.store.models import InboxStatus, Message, NluInboxItem, Worker, utcnow

FALLBACK = "nlu_fallback"
GROUP_KEY_CHARS = 200


@dataclass(frozen=True)
class Thresholds:
    """When the assistant counts as unsure (from DeskSettings)."""

    confidence: float = 0.6
    margin: float = 0.15
    retention_days: int = 30


def group_key(masked_text: str) -> str:
    """Lowercase, no accents, no punctuation, digits as 0, single spaces: near-duplicates meet."""
    text = unicodedata.normalize("NFKD", masked_text.lower())
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = re.sub(r"\[[a-z_]+\]", lambda m: m.group(0).upper(), text)  # placeholders stay as they are
    text = re.sub(r"\d", "0", text)
    text = re.sub(r"[^\w\[\]]+", " ", text)
    return " ".join(text.split())[:GROUP_KEY_CHARS]


def unsure_reason(parse: dict[str, Any] | None, thresholds: Thresholds) -> str | None:
    """Why this parse belongs in the inbox, or None when the assistant was sure."""
    if not parse:
        return None
    if parse.get("input") not in (None, "ok"):
        return None  # empty, emoji only, foreign language: nothing to learn as Dutch
    intent = str(parse.get("intent") or "")
    if intent == FALLBACK:
        return "fallback"
    if intent == "report_crisis":
        return None  # crisis is decided by recall; not a training task for this inbox
    confidence = float(parse.get("confidence") or 0.0)
    if confidence < thresholds.confidence:
        return "low_confidence"
    ranking = [r for r in parse.get("ranking") or [] if r.get("name") != FALLBACK]
    if len(ranking) >= 2 and float(ranking[0]["confidence"]) - float(ranking[1]["confidence"]) < thresholds.margin:
        return "close_second"
    return None


def _second(parse: dict[str, Any]) -> str | None:
    top = str(parse.get("intent") or "")
    for item in parse.get("ranking") or []:
        name = str(item.get("name") or "")
        if name and name not in (top, FALLBACK):
            return name
    return None


def add(
    session: Session,
    message: Message,
    reason: str,
    thresholds: Thresholds,
    *,
    now: dt.datetime | None = None,
) -> NluInboxItem | None:
    """Put a citizen message in the inbox (masked), unless it is already there."""
    if not message.text.strip():
        return None
    exists = session.scalar(select(NluInboxItem.id).where(NluInboxItem.message_id == message.id))
    if exists is not None:
        return None
    masked = mask(message.text).text
    parse = message.nlu or {}
    created = now or utcnow()
    item = NluInboxItem(
        message_id=message.id,
        masked_text=masked,
        group_key=group_key(masked),
        reason=reason,
        predicted_intent=str(parse.get("intent") or ""),
        confidence=float(parse.get("confidence") or 0.0),
        second_intent=_second(parse),
        status=InboxStatus.open,
        created_at=created,
        expires_at=created + dt.timedelta(days=thresholds.retention_days),
    )
    session.add(item)
    session.flush()
    return item


def record_parse(
    session: Session, message: Message, parse: dict[str, Any] | None, thresholds: Thresholds
) -> NluInboxItem | None:
    """Keep how the assistant understood a citizen message; queue it for review if unsure."""
    if parse is None:
        return None
    message.nlu = parse
    reason = unsure_reason(parse, thresholds)
    return add(session, message, reason, thresholds) if reason else None


def flag(session: Session, message: Message, worker: Worker, thresholds: Thresholds) -> NluInboxItem | None:
    """A worker says the assistant misunderstood this message."""
    item = add(session, message, "flagged", thresholds)
    if item is None:
        item = session.scalar(select(NluInboxItem).where(NluInboxItem.message_id == message.id))
        if item is not None and item.status is InboxStatus.open:
            item.reason = "flagged"
    return item


def purge_expired(session: Session, now: dt.datetime | None = None) -> int:
    """Delete items past their retention; returns how many."""
    result = session.execute(delete(NluInboxItem).where(NluInboxItem.expires_at < (now or utcnow())))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Group:
    group_key: str
    text: str
    count: int
    item_ids: list[int]
    predicted_intents: list[str]
    reasons: list[str]
    latest: dt.datetime


def open_groups(session: Session, limit: int = 200) -> list[Group]:
    """Open items grouped by key, biggest group first, then the most recent."""
    rows = session.scalars(
        select(NluInboxItem).where(NluInboxItem.status == InboxStatus.open).order_by(NluInboxItem.id)
    ).all()
    groups: dict[str, list[NluInboxItem]] = {}
    for row in rows:
        groups.setdefault(row.group_key, []).append(row)
    result = [
        Group(
            group_key=key,
            text=items[-1].masked_text,
            count=len(items),
            item_ids=[i.id for i in items],
            predicted_intents=sorted({i.predicted_intent for i in items if i.predicted_intent}),
            reasons=sorted({i.reason for i in items}),
            latest=max(i.created_at for i in items),
        )
        for key, items in groups.items()
    ]
    result.sort(key=lambda g: (-g.count, -g.latest.timestamp()))
    return result[:limit]


def open_count(session: Session) -> int:
    return int(
        session.scalar(select(func.count()).select_from(NluInboxItem).where(NluInboxItem.status == InboxStatus.open))
        or 0
    )
