"""Teams and routing: which team answers a handoff (issue 15).

`route` is a pure function of the teams (with their hours and whether anyone of them is
online), the handoff's life domains, urgency and source, and the time. The rules, in order:

1. A team *fits* when it is active and takes the urgency, the source and at least one of the
   domains (an empty list means "all"; a team without domains fits any domain, but ranks
   after every team that names one of the handoff's domains).
2. Of the fitting teams the one with the most of the handoff's domains wins; a tie goes to
   the team that takes the first (main) domain, then to the most specialised team (fewest
   domains), then to the oldest team (lowest id).
3. Nothing fits: the fallback team (the wijkteam by default), else no team (the shared queue).
4. Not waiting too long for a closed team: `urgent` and `crisis` go to the fallback team
   when the chosen team is not there now (closed, or nobody online) and the fallback team
   is; `normal` goes to the fallback team when the chosen team opens more than
   `TOO_LONG_NORMAL` later than the fallback team (Wgs: a first conversation within four
   weeks, within three werkdagen in a bedreigende situatie; ../shared/domain/facts.md §2.1).
   A team with nobody online is not skipped for a `normal` handoff: presence changes at
   every lunch break, and colleagues of other teams can still help ("help elsewhere").

A crisis is routed too (its team is who follows it up), but it never waits for that team:
the inbox shows every crisis to every worker, first (handoff/inbox/api.py).

A conversation's team is set where it enters the queue (handoff/store/conversations.py)
and by a transfer; a later follow-up can route back to it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from handoff.store.models import Channel, Conversation, Presence, Team, TeamMember, Urgency, Worker
from handoff.store.office_hours import DAYS, OfficeHours

TOO_LONG_NORMAL = dt.timedelta(days=2)
"""A normal question goes to the fallback team when its own team opens this much later."""
NEVER = dt.timedelta(days=366)


@dataclass(frozen=True)
class TeamSpec:
    """What routing needs to know of a team."""

    id: int
    name: str
    domains: frozenset[str] = frozenset()
    urgencies: frozenset[str] = frozenset()
    sources: frozenset[str] = frozenset()
    fallback: bool = False
    active: bool = True
    hours: OfficeHours | None = None
    """None: always open (tests; routing without hours)."""
    online: bool = True
    """Someone of the team is online now."""


@dataclass(frozen=True)
class Routed:
    team_id: int | None
    why: str
    """fits | fallback_nothing_fits | fallback_not_there | fallback_closed_long | no_team"""


def source_keys(channel: Channel | str, source: str | None) -> frozenset[str]:
    """The names a conversation's source goes by: "telegram"; "widget" and "widget:<tag>"."""
    name = channel.value if isinstance(channel, Channel) else str(channel)
    keys = {name}
    if source:
        keys.add(f"{name}:{source}")
    return frozenset(keys)


def _fits(team: TeamSpec, domains: Sequence[str], urgency: str, sources: frozenset[str]) -> bool:
    if not team.active:
        return False
    if team.urgencies and urgency not in team.urgencies:
        return False
    if team.sources and not (team.sources & sources):
        return False
    return not team.domains or bool(team.domains & set(domains))


def _wait(team: TeamSpec, now: dt.datetime) -> dt.timedelta:
    """How long until the team is open (zero now; NEVER when it has no hours at all)."""
    if team.hours is None or team.hours.is_open(now):
        return dt.timedelta(0)
    opening = team.hours.next_opening(now)
    return NEVER if opening is None else opening - now


def _there(team: TeamSpec, now: dt.datetime) -> bool:
    return team.online and _wait(team, now) == dt.timedelta(0)


def route(
    teams: Iterable[TeamSpec],
    domains: Sequence[str],
    urgency: Urgency | str,
    channel: Channel | str,
    source: str | None,
    now: dt.datetime,
) -> Routed:
    """The team for a handoff (see the module's docstring for the rules)."""
    level = urgency.value if isinstance(urgency, Urgency) else str(urgency)
    keys = source_keys(channel, source)
    active = [t for t in teams if t.active]
    fallback = next((t for t in sorted(active, key=lambda t: t.id) if t.fallback), None)
    main = domains[0] if domains else None

    def rank(team: TeamSpec) -> tuple[int, int, int, int]:
        overlap = len(team.domains & set(domains))
        return (-overlap, 0 if main in team.domains else 1, len(team.domains) if team.domains else 99, team.id)

    fitting = sorted((t for t in active if _fits(t, domains, level, keys)), key=rank)
    if not fitting:
        if fallback is None:
            return Routed(None, "no_team")
        return Routed(fallback.id, "fallback_nothing_fits")
    chosen = fitting[0]
    if fallback is None or chosen.id == fallback.id:
        return Routed(chosen.id, "fits")
    if level in (Urgency.urgent.value, Urgency.crisis.value):
        if not _there(chosen, now) and _there(fallback, now):
            return Routed(fallback.id, "fallback_not_there")
    elif _wait(chosen, now) > _wait(fallback, now) + TOO_LONG_NORMAL:
        return Routed(fallback.id, "fallback_closed_long")
    return Routed(chosen.id, "fits")


# --------------------------------------------------------------------- from the database


def team_hours(team: Team, base: OfficeHours) -> OfficeHours:
    """The team's own week on the municipality's zone, holidays and closing days; the
    municipality's hours when the team has none of its own."""
    if not team.hours:
        return base
    own = OfficeHours.from_settings({day: team.hours.get(day, "") for day in DAYS})
    return replace(base, week=own.week)


def online_team_ids(session: Session) -> set[int]:
    return set(
        session.scalars(
            select(TeamMember.team_id)
            .join(Worker, Worker.id == TeamMember.worker_id)
            .where(Worker.presence == Presence.online, Worker.disabled.is_(False))
        )
    )


def specs(session: Session, base: OfficeHours | None) -> list[TeamSpec]:
    online = online_team_ids(session)
    return [
        TeamSpec(
            id=team.id,
            name=team.name,
            domains=frozenset(team.domains or ()),
            urgencies=frozenset(team.urgencies or ()),
            sources=frozenset(team.sources or ()),
            fallback=team.fallback,
            active=team.active,
            hours=team_hours(team, base) if base is not None else None,
            online=team.id in online,
        )
        for team in session.scalars(select(Team).where(Team.active.is_(True)).order_by(Team.id))
    ]


def route_conversation(
    session: Session,
    conversation: Conversation,
    urgency: Urgency,
    domains: Sequence[str],
    hours: OfficeHours | None,
    now: dt.datetime,
) -> Routed:
    return route(specs(session, hours), domains, urgency, conversation.channel, conversation.source, now)


def team_of(session: Session, conversation: Conversation) -> Team | None:
    return session.get(Team, conversation.team_id) if conversation.team_id is not None else None


def team_ids_of(session: Session, worker_id: int) -> list[int]:
    return list(
        session.scalars(
            select(TeamMember.team_id).where(TeamMember.worker_id == worker_id).order_by(TeamMember.team_id)
        )
    )


def member_ids(session: Session, team_id: int) -> list[int]:
    return list(
        session.scalars(
            select(TeamMember.worker_id).where(TeamMember.team_id == team_id).order_by(TeamMember.worker_id)
        )
    )


def set_members(session: Session, team: Team, worker_ids: Iterable[int]) -> None:
    session.execute(delete(TeamMember).where(TeamMember.team_id == team.id))
    for worker_id in sorted(set(worker_ids)):
        session.add(TeamMember(team_id=team.id, worker_id=worker_id))
    session.flush()


def make_fallback(session: Session, team: Team) -> None:
    """One fallback team: making this one clears the others."""
    for other in session.scalars(select(Team).where(Team.fallback.is_(True), Team.id != team.id)):
        other.fallback = False
    team.fallback = True


def ensure_defaults(session: Session, defaults: Sequence[Mapping[str, Any]], members: Sequence[Worker] = ()) -> int:
    """For `scripts/desk ensure-demo`: the default teams (data/gemeente.yml, default_teams)
    when there are no teams at all; `members` join every team. Returns how many were added."""
    if session.scalar(select(Team.id).limit(1)) is not None:
        return 0
    for row in defaults:
        team = Team(
            name=str(row["name"]),
            description=str(row.get("description") or ""),
            hours={str(k): str(v or "") for k, v in row["hours"].items()} if row.get("hours") else None,
            domains=list(row.get("domains") or []),
            urgencies=list(row.get("urgencies") or []),
            sources=list(row.get("sources") or []),
            fallback=bool(row.get("fallback")),
            active=True,
        )
        session.add(team)
        session.flush()
        set_members(session, team, [w.id for w in members])
    return len(defaults)
