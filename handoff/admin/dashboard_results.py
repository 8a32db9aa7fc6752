"""Results for the admin dashboard (issue 15, "niet vrijblijvend maar resultaatgericht"),
for a period and, when chosen, one team:

- results per life domain and per team (improved / same / referred: handoff/store/outcomes.py);
- referrals to informal vs formal help, and per offer (data/knowledge/informal_help.yml);
- time to the first human contact (queued until a worker claimed it) per urgency against the
  Wgs response times (../shared/domain/facts.md §2.1): urgent 3 werkdagen, normal 4 weeks,
  crisis as fast as possible (no legal term);
- follow-ups sent and answered (handoff/store/followups.py, when that table is there).

Conversations that retention or an erasure deleted still count: their results stay unlinked
in `domain_outcomes`, their handoffs in `conversation_stats` (with team and "within norm").
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, inspect, select
from sqlalchemy.orm import Session

from baken_core import help_offers
from baken_core.zrm import DOMAINS
from handoff.store import models
from handoff.store.models import Conversation, ConversationStats, DomainOutcome, Handoff, Team, as_utc
from handoff.store.outcomes import NORMAL_DAYS, URGENT_WORKDAYS, within_wgs_norm

RESULTS = ("improved", "same", "referred")
URGENCIES = ("crisis", "urgent", "normal")
NORMS = {
    "crisis": "Geen wettelijke termijn: zo snel mogelijk",
    "urgent": f"Wgs: binnen {URGENT_WORKDAYS} werkdagen (bedreigende situatie)",
    "normal": "Wgs: binnen 4 weken",
}
NORM_SOURCE = (
    "Bron: domain/facts.md §2.1, Wet gemeentelijke schuldhulpverlening art. 4 (tekst van vóór 2021). "
    "Sinds 2021 staat dit in art. 4a; volgens andere bronnen geldt nog steeds 4 weken / 3 werkdagen, "
    "maar de precieze tekst van art. 4a is niet gelezen [ONZEKER]. Werkdagen: maandag tot en met vrijdag, "
    "zonder landelijke feestdagen. Eerste contact: het moment dat een medewerker het gesprek oppakt."
)
NOT_YET = "nog niet beschikbaar"
NO_TEAM = "Gedeelde rij (geen team)"
MAX_DAYS = 366


@dataclass
class Results:
    start: dt.date
    end: dt.date
    team_id: int | None
    per_domain: dict[str, dict[str, int]] = field(default_factory=dict)
    """Dutch domain name → {"improved", "same", "referred"} → count."""
    per_team: dict[str, dict[str, int]] = field(default_factory=dict)
    referrals: dict[str, int] = field(default_factory=dict)
    """{"formal": n, "informal": n}"""
    referrals_per_offer: list[dict[str, Any]] = field(default_factory=list)
    """[{"key", "name", "kind", "example", "count"}], most first."""
    first_contact: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Per urgency: count, median and p90 (minutes), within_norm, over_norm, within_share,
    no_contact (queued in the period, never claimed), norm (Dutch)."""
    norm_source: str = NORM_SOURCE
    followups: dict[str, int] | None = None
    """{"sent", "answered"}; None: the follow-ups table is not there ("nog niet beschikbaar")."""


def _bounds(start: dt.date, end: dt.date) -> tuple[dt.datetime, dt.datetime]:
    since = dt.datetime.combine(start, dt.time.min, tzinfo=dt.timezone.utc)
    until = dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min, tzinfo=dt.timezone.utc)
    return since, until


def results(session: Session, start: dt.date, end: dt.date, team_id: int | None = None) -> Results:
    """From `start` up to and including `end` (UTC days); `team_id`: that team only."""
    found = Results(start=start, end=end, team_id=team_id)
    _outcomes(session, found)
    _first_contact(session, found)
    found.followups = followup_counts(session, start, end, team_id)
    return found


def _outcomes(session: Session, found: Results) -> None:
    since, until = _bounds(found.start, found.end)
    query = select(DomainOutcome).where(DomainOutcome.closed_at >= since, DomainOutcome.closed_at < until)
    if found.team_id is not None:
        query = query.where(DomainOutcome.team_id == found.team_id)
    rows = session.scalars(query.order_by(DomainOutcome.id)).all()
    names = dict(session.execute(select(Team.id, Team.name)).tuples().all())
    per_domain: dict[str, dict[str, int]] = {}
    per_team: dict[str, dict[str, int]] = {}
    offers = help_offers.by_key()
    per_offer: dict[str, int] = defaultdict(int)
    kinds: dict[str, str] = {}
    referrals = {"formal": 0, "informal": 0}
    for slug in DOMAINS:  # the ZRM's order
        if any(r.domain == slug for r in rows):
            per_domain[DOMAINS[slug]] = dict.fromkeys(RESULTS, 0)
    for row in rows:
        result = row.result.value
        if row.domain in DOMAINS:
            per_domain[DOMAINS[row.domain]][result] += 1
        team = names.get(row.team_id, f"Team {row.team_id}") if row.team_id is not None else NO_TEAM
        per_team.setdefault(team, dict.fromkeys(RESULTS, 0))[result] += 1
        if row.result is models.DomainResult.referred and row.referral_kind in referrals:
            referrals[row.referral_kind] += 1
            key = row.referral_key or "?"
            per_offer[key] += 1
            kinds[key] = row.referral_kind
    found.per_domain = per_domain
    found.per_team = dict(sorted(per_team.items()))
    found.referrals = referrals
    found.referrals_per_offer = [
        {
            "key": key,
            "name": offers[key].name if key in offers else key,
            "kind": kinds[key],
            "example": offers[key].example if key in offers else False,
            "count": count,
        }
        for key, count in sorted(per_offer.items(), key=lambda item: (-item[1], item[0]))
    ]


def _p90(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]


def _first_contact(session: Session, found: Results) -> None:
    since, until = _bounds(found.start, found.end)
    waits: dict[str, list[float]] = {u: [] for u in URGENCIES}
    within: dict[str, int] = dict.fromkeys(URGENCIES, 0)
    over: dict[str, int] = dict.fromkeys(URGENCIES, 0)
    no_contact: dict[str, int] = dict.fromkeys(URGENCIES, 0)

    def count(urgency: str, wait: float | None, in_norm: bool | None) -> None:
        if urgency not in waits:
            return
        if wait is None:
            no_contact[urgency] += 1
            return
        waits[urgency].append(wait)
        if in_norm is True:
            within[urgency] += 1
        elif in_norm is False:
            over[urgency] += 1

    query = (
        select(Handoff, Conversation.team_id)
        .join(Conversation, Conversation.id == Handoff.conversation_id)
        .where(Handoff.queued_at >= since, Handoff.queued_at < until)
    )
    if found.team_id is not None:
        query = query.where(Conversation.team_id == found.team_id)
    for handoff, _team in session.execute(query).tuples():
        if handoff.claimed_at is None:
            count(handoff.urgency.value, None, None)
            continue
        wait = max(0.0, (as_utc(handoff.claimed_at) - as_utc(handoff.queued_at)).total_seconds() / 60)
        count(
            handoff.urgency.value, wait, within_wgs_norm(handoff.urgency.value, handoff.queued_at, handoff.claimed_at)
        )
    archived = session.scalars(
        select(ConversationStats).where(
            ConversationStats.created_on >= found.start - dt.timedelta(days=MAX_DAYS),
            ConversationStats.created_on <= found.end,
        )
    ).all()
    for stats in archived:
        for entry in stats.handoffs or []:
            if not found.start.isoformat() <= str(entry.get("queued_on")) <= found.end.isoformat():
                continue
            if found.team_id is not None and entry.get("team_id") != found.team_id:
                continue
            stored = entry.get("wait_minutes")
            count(str(entry.get("urgency")), None if stored is None else float(stored), entry.get("within_norm"))
    for urgency in URGENCIES:
        values = waits[urgency]
        judged = within[urgency] + over[urgency]
        found.first_contact[urgency] = {
            "count": len(values),
            "median": round(statistics.median(values), 1) if values else 0.0,
            "p90": round(_p90(values), 1) if values else 0.0,
            "within_norm": within[urgency],
            "over_norm": over[urgency],
            "within_share": round(within[urgency] / judged, 3) if judged else None,
            "no_contact": no_contact[urgency],
            "norm": NORMS[urgency],
        }


def followup_counts(session: Session, start: dt.date, end: dt.date, team_id: int | None) -> dict[str, int] | None:
    """Check-ins sent in the period, and how many of those the citizen answered; None when
    the follow-ups table (handoff/store/followups.py, another part of issue 15) is not there."""
    model: Any = getattr(models, "FollowUp", None)
    if model is None or not inspect(session.connection()).has_table(model.__tablename__):
        return None
    since, until = _bounds(start, end)
    query = select(func.count()).where(model.sent_at >= since, model.sent_at < until, model.kind == "checkin")
    if team_id is not None:
        query = query.where(model.team_id == team_id)
    sent = int(session.scalar(query) or 0)
    answered = int(session.scalar(query.where(model.answered_at.is_not(None), model.outcome.is_not(None))) or 0)
    return {"sent": sent, "answered": answered}


def norm_minutes(urgency: str) -> float | None:
    """Where the chart draws the norm: urgent at 3 days (3 werkdagen are 3 to 5 calendar days,
    the share on time counts werkdagen exactly), normal at 4 weeks, crisis none."""
    if urgency == "urgent":
        return float(URGENT_WORKDAYS * 24 * 60)
    if urgency == "normal":
        return float(NORMAL_DAYS * 24 * 60)
    return None
