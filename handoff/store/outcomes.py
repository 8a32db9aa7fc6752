"""Results per life domain when a worker closes a conversation (issue 15, "niet vrijblijvend
maar resultaatgericht").

A worker closes with, for each life domain of the conversation (the triage's domains, plus
any the worker adds), improved / same / referred, and for a referral where to: an offer of
data/knowledge/informal_help.yml, formal (schuldhulpverlening gemeente, wijkteam …) or
informal (SchuldHulpMaatje, voedselbank, a buurtkamer …). Stored in the close's transaction;
the conversation's status still changes only in conversations.close. The rows hold no text,
so retention and an erasure keep them, unlinked (handoff/store/forget.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import holidays
from sqlalchemy import select
from sqlalchemy.orm import Session

from baken_core import help_offers
from baken_core.zrm import DOMAINS
from handoff.store.models import Conversation, DomainOutcome, DomainResult, Handoff, as_utc, utcnow

LOCAL = ZoneInfo("Europe/Amsterdam")
URGENT_WORKDAYS = 3
"""Wgs: the first conversation within 3 werkdagen in a bedreigende situatie (facts.md §2.1)."""
NORMAL_DAYS = 28
"""Wgs: the first conversation within 4 weeks (facts.md §2.1)."""


class OutcomeError(ValueError):
    """A result the desk cannot store; the message is Dutch, for the worker."""


@dataclass(frozen=True)
class DomainClose:
    domain: str
    result: DomainResult
    referral: str | None = None
    """The key of an offer in data/knowledge/informal_help.yml (only with `referred`)."""


def triage_domains(session: Session, conversation: Conversation) -> list[str]:
    """The life domains the triage named in this conversation's handoffs, first seen first."""
    found: list[str] = []
    for domains in session.scalars(
        select(Handoff.domains).where(Handoff.conversation_id == conversation.id).order_by(Handoff.id)
    ):
        for domain in domains or []:
            if domain in DOMAINS and domain not in found:
                found.append(domain)
    return found


def _urgency(session: Session, conversation: Conversation) -> str:
    latest = session.scalars(
        select(Handoff).where(Handoff.conversation_id == conversation.id).order_by(Handoff.id.desc()).limit(1)
    ).first()
    return latest.urgency.value if latest is not None else "normal"


def check(items: Sequence[DomainClose]) -> None:
    """Raises OutcomeError for an unknown domain or offer, a domain twice, or a referral
    without a place (or a place without a referral)."""
    seen: set[str] = set()
    offers = help_offers.by_key()
    for item in items:
        if item.domain not in DOMAINS:
            raise OutcomeError(f"Onbekend levensgebied: {item.domain}.")
        if item.domain in seen:
            raise OutcomeError(f"{DOMAINS[item.domain]} staat er twee keer in.")
        seen.add(item.domain)
        if item.result is DomainResult.referred:
            if not item.referral:
                raise OutcomeError(f"Kies bij {DOMAINS[item.domain]} waarheen je hebt doorverwezen.")
            if item.referral not in offers:
                raise OutcomeError(f"Onbekende plek om naar door te verwijzen bij {DOMAINS[item.domain]}.")
        elif item.referral:
            raise OutcomeError(f"Bij {DOMAINS[item.domain]} is niet doorverwezen: laat 'waarheen' leeg.")


def record(
    session: Session, conversation: Conversation, items: Sequence[DomainClose], now: dt.datetime | None = None
) -> list[DomainOutcome]:
    """Store the results (checked first); the caller closes the conversation in the same transaction."""
    check(items)
    offers = help_offers.by_key()
    urgency = _urgency(session, conversation)
    now = now or utcnow()
    rows = []
    for item in items:
        offer = offers.get(item.referral) if item.referral else None
        row = DomainOutcome(
            conversation_id=conversation.id,
            team_id=conversation.team_id,
            urgency=urgency,
            domain=item.domain,
            result=item.result,
            referral_key=offer.key if offer else None,
            referral_kind=offer.kind if offer else None,
            closed_at=now,
        )
        session.add(row)
        rows.append(row)
    session.flush()
    return rows


def workdays_between(start: dt.datetime, end: dt.datetime) -> int:
    """Werkdagen after `start`'s local day up to and including `end`'s: Monday to Friday,
    not a Dutch public holiday (the maintained `holidays` library). Same day: 0."""
    first, last = as_utc(start).astimezone(LOCAL).date(), as_utc(end).astimezone(LOCAL).date()
    calendar = holidays.country_holidays("NL", years=range(first.year, last.year + 1))
    count, day = 0, first
    while day < last:
        day += dt.timedelta(days=1)
        if day.weekday() < 5 and day not in calendar:
            count += 1
    return count


def within_wgs_norm(urgency: str, queued: dt.datetime, contact: dt.datetime) -> bool | None:
    """Whether the first human contact came within the Wgs term for this urgency: urgent 3
    werkdagen, normal 4 weeks; None for a crisis (as fast as possible, no legal term)."""
    if urgency == "urgent":
        return workdays_between(queued, contact) <= URGENT_WORKDAYS
    if urgency == "normal":
        return as_utc(contact) - as_utc(queued) <= dt.timedelta(days=NORMAL_DAYS)
    return None
