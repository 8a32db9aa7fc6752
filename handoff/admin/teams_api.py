"""Admin API: teams (issue 15). An admin creates, changes and deactivates teams: their name,
description, own office hours (or the municipality's), the life domains, urgencies and
sources they take, the fallback team and the members. Routing reads them at every handoff
(handoff/store/teams.py). Teams are never deleted (conversations keep their team for the
follow-up); a deactivated team takes no new handoffs. Every change goes to the audit log."""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path
from pydantic import AfterValidator, BaseModel, Field
from sqlalchemy import select

from baken_core.zrm import DOMAINS, URGENCY_LABELS
from handoff.deps import CurrentAdmin, Desk, get_or_404
from handoff.store import conversations as convs
from handoff.store import teams
from handoff.store.db import MAX_ID
from handoff.store.models import Team, Worker
from handoff.store.office_hours import DAYS, DUTCH_DAYS, HoursError, OfficeHours

router = APIRouter(prefix="/api/admin/teams", tags=["admin"])
GONE = "Dit team bestaat niet."
TeamId = Annotated[int, Path(ge=1, le=MAX_ID)]
SOURCE = r"telegram|widget(:[A-Za-z0-9_.-]{1,64})?"
URGENCIES = ("crisis", "urgent", "normal")


def _name(value: str) -> str:
    value = value.strip()
    if not value or not value.isprintable():
        raise ValueError("geef het team een naam van 1 tot 64 gewone tekens")
    return value


def _line(value: str) -> str:
    if not value.isprintable():
        raise ValueError("gebruik alleen gewone tekens op één regel")
    return value.strip()


def _domains(values: list[str]) -> list[str]:
    unknown = [v for v in values if v not in DOMAINS]
    if unknown:
        raise ValueError(f"onbekend levensgebied: {', '.join(unknown)}; kies uit de 13 levensgebieden van de ZRM")
    return sorted(set(values), key=list(DOMAINS).index)


def _urgencies(values: list[str]) -> list[str]:
    unknown = [v for v in values if v not in URGENCIES]
    if unknown:
        raise ValueError(f"onbekende urgentie: {', '.join(unknown)}; kies uit crisis, urgent en normal")
    return [v for v in URGENCIES if v in values]


def _sources(values: list[str]) -> list[str]:
    wrong = [v for v in values if not re.fullmatch(SOURCE, v)]
    if wrong:
        raise ValueError(
            f"onbekende bron: {', '.join(wrong)}; een bron is telegram, widget, of widget:<naam van de site> "
            "(letters, cijfers, punt, - en _)"
        )
    return sorted(set(values))


def _hours(value: dict[str, str] | None) -> dict[str, str] | None:
    if value is None:
        return None
    unknown = [day for day in value if day not in DAYS]
    if unknown:
        raise ValueError("gebruik de dagen monday tot en met sunday")
    try:
        OfficeHours.from_settings(value)
    except HoursError as exc:
        day = str(exc).split(":")[0].removeprefix("opening_hours.")
        dutch = DUTCH_DAYS[DAYS.index(day)] if day in DAYS else day
        raise ValueError(f"de tijden voor {dutch} kloppen niet; schrijf ze zo: 09:00-12:30, 13:30-17:00") from None
    return {day: value.get(day, "").strip() for day in DAYS}


Name = Annotated[str, Field(min_length=1, max_length=64), AfterValidator(_name)]
Description = Annotated[str, Field(max_length=500), AfterValidator(_line)]
Domains = Annotated[list[str], Field(max_length=13), AfterValidator(_domains)]
Urgencies = Annotated[list[Annotated[str, Field(max_length=16)]], Field(max_length=3), AfterValidator(_urgencies)]
Sources = Annotated[list[Annotated[str, Field(max_length=72)]], Field(max_length=20), AfterValidator(_sources)]
Hours = Annotated[
    dict[str, Annotated[str, Field(max_length=60, pattern=r"^[0-9:, -]*$")]] | None,
    Field(max_length=7),
    AfterValidator(_hours),
]
Members = Annotated[list[Annotated[int, Field(ge=1, le=MAX_ID)]], Field(max_length=500)]


class TeamOut(BaseModel):
    id: int
    name: str
    description: str
    hours: dict[str, str] | None
    """None: the municipality's office hours (data/gemeente.yml)."""
    domains: list[str]
    urgencies: list[str]
    sources: list[str]
    fallback: bool
    active: bool
    member_ids: list[int]


class NewTeam(BaseModel):
    """Empty lists mean "all"; `hours` None: the municipality's office hours."""

    name: Name
    description: Description = ""
    hours: Hours = None
    domains: Domains = []
    urgencies: Urgencies = []
    sources: Sources = []
    fallback: bool = False
    active: bool = True
    member_ids: Members = []


class TeamChange(BaseModel):
    """Only the fields that are sent change. `hours`: send null for the municipality's hours."""

    name: Name | None = None
    description: Description | None = None
    hours: Hours = None
    domains: Domains | None = None
    urgencies: Urgencies | None = None
    sources: Sources | None = None
    fallback: bool | None = None
    active: bool | None = None
    member_ids: Members | None = None


class Choice(BaseModel):
    value: str
    label: str


class Choices(BaseModel):
    domains: list[Choice]
    urgencies: list[Choice]
    sources: list[Choice]
    """Examples; a widget on a partner's site is widget:<its data-source>."""


def _out(session: Any, team: Team) -> TeamOut:
    return TeamOut(
        id=team.id,
        name=team.name,
        description=team.description,
        hours=team.hours,
        domains=list(team.domains or []),
        urgencies=list(team.urgencies or []),
        sources=list(team.sources or []),
        fallback=team.fallback,
        active=team.active,
        member_ids=teams.member_ids(session, team.id),
    )


def _check_members(session: Any, member_ids: list[int]) -> None:
    found = set(session.scalars(select(Worker.id).where(Worker.id.in_(member_ids))))
    if set(member_ids) - found:
        raise HTTPException(422, "Een van de gekozen medewerkers bestaat niet (meer). Laad de pagina opnieuw.")


def _check_name(session: Any, name: str, team_id: int | None = None) -> None:
    other = session.scalar(select(Team).where(Team.name == name))
    if other is not None and other.id != team_id:
        raise HTTPException(409, f"Er is al een team met de naam {name!r}. Kies een andere naam.")


@router.get("", response_model=list[TeamOut], summary="All teams, active and not")
async def list_teams(admin: CurrentAdmin, desk: Desk) -> Any:
    with desk.sessions() as session:
        return [_out(session, team) for team in session.scalars(select(Team).order_by(Team.name))]


@router.get("/choices", response_model=Choices, summary="Life domains, urgencies and example sources")
async def choices(admin: CurrentAdmin) -> Any:
    return Choices(
        domains=[Choice(value=slug, label=label) for slug, label in DOMAINS.items()],
        urgencies=[
            Choice(value=value, label=URGENCY_LABELS.get(value, value)) for value in ("crisis", "urgent", "normal")
        ],
        sources=[
            Choice(value="telegram", label="Telegram"),
            Choice(value="widget", label="Website (elke site)"),
            Choice(value="widget:huisarts", label="Website van een partner, bijvoorbeeld de huisarts"),
        ],
    )


@router.post("", response_model=TeamOut, status_code=201, summary="Create a team")
async def create(body: NewTeam, admin: CurrentAdmin, desk: Desk) -> Any:
    with desk.sessions.begin() as session:
        _check_name(session, body.name)
        _check_members(session, body.member_ids)
        if body.fallback and not body.active:
            raise HTTPException(422, "Een team dat niet actief is, kan niet het vangnet zijn.")
        team = Team(
            name=body.name,
            description=body.description,
            hours=body.hours,
            domains=body.domains,
            urgencies=body.urgencies,
            sources=body.sources,
            fallback=False,
            active=body.active,
        )
        session.add(team)
        session.flush()
        if body.fallback:
            teams.make_fallback(session, team)
        teams.set_members(session, team, body.member_ids)
        convs.audit(session, "create_team", worker=admin, detail={"team": team.id, "name": team.name})
        return _out(session, team)


@router.post("/{team_id}", response_model=TeamOut, summary="Change, deactivate or reactivate a team")
async def change(team_id: TeamId, body: TeamChange, admin: CurrentAdmin, desk: Desk) -> Any:
    sent = body.model_fields_set
    with desk.sessions.begin() as session:
        team = get_or_404(session, Team, team_id, GONE)
        if body.name is not None:
            _check_name(session, body.name, team.id)
            team.name = body.name
        if body.description is not None:
            team.description = body.description
        if "hours" in sent:
            team.hours = body.hours
        if body.domains is not None:
            team.domains = body.domains
        if body.urgencies is not None:
            team.urgencies = body.urgencies
        if body.sources is not None:
            team.sources = body.sources
        if body.active is not None:
            team.active = body.active
        if body.fallback is not None:
            if body.fallback:
                teams.make_fallback(session, team)
            else:
                team.fallback = False
        if team.fallback and not team.active:
            raise HTTPException(
                422, "Het vangnet-team kan niet uit. Maak eerst een ander team het vangnet, of zet het vangnet uit."
            )
        if body.member_ids is not None:
            _check_members(session, body.member_ids)
            teams.set_members(session, team, body.member_ids)
        changed = sorted(sent)
        convs.audit(session, "change_team", worker=admin, detail={"team": team.id, "changed": changed})
        return _out(session, team)
