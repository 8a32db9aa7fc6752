"""Admin dashboard: figures and a chart for a period the admin picks."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Response
from pydantic import BaseModel

from baken_core import knowledge
from handoff.admin import charts, dashboard, dashboard_results
from handoff.deps import CurrentAdmin, Desk, DeskState
from handoff.store.db import MAX_ID

router = APIRouter(prefix="/api/admin/dashboard", tags=["admin"])


class Waiting(BaseModel):
    count: int
    median: float
    p90: float


class DashboardOut(BaseModel):
    start: dt.date
    end: dt.date
    conversations: int
    conversations_per_day: dict[str, int]
    handed_off: int
    handoff_rate: float
    citizen_messages: int
    fallbacks: int
    fallback_rate: float
    waiting_minutes: dict[str, Waiting]
    outcomes: dict[str, int]


def _period(start: dt.date | None, end: dt.date | None) -> tuple[dt.date, dt.date]:
    last = end or dt.datetime.now(dt.timezone.utc).date()
    first = start or last - dt.timedelta(days=29)
    if first > last:
        raise HTTPException(422, "De begindatum ligt na de einddatum.")
    if (last - first).days >= dashboard.MAX_DAYS:
        raise HTTPException(422, "Kies een periode van hoogstens een jaar.")
    return first, last


Day = Annotated[dt.date | None, Query(description="YYYY-MM-DD")]


def _figures(desk: DeskState, start: dt.date | None, end: dt.date | None) -> dashboard.Figures:
    first, last = _period(start, end)
    with desk.sessions() as session:
        return dashboard.figures(session, first, last)


class ContentItem(BaseModel):
    intent: str
    title: str
    why: str
    day: dt.date | None


@router.get(
    "/content",
    response_model=list[ContentItem],
    summary="Knowledge that expires soon, was checked long ago, or has no dated source",
)
async def content(admin: CurrentAdmin, desk: Desk) -> Any:
    expiring, max_age = desk.content_attention
    today = dt.datetime.now(dt.timezone.utc).date()
    found = knowledge.needs_attention(
        knowledge.load_knowledge(), today, expiring_within_days=expiring, check_older_than_days=max_age
    )
    return [ContentItem(**item.__dict__) for item in found]


@router.get("", response_model=DashboardOut, summary="Figures for a period (default: the last 30 days)")
async def view(admin: CurrentAdmin, desk: Desk, start: Day = None, end: Day = None) -> Any:
    found = _figures(desk, start, end)
    return DashboardOut(**found.__dict__)


@router.get("/conversations.svg", response_class=Response, summary="Conversations per day (SVG)")
async def conversations_chart(admin: CurrentAdmin, desk: Desk, start: Day = None, end: Day = None) -> Response:
    found = _figures(desk, start, end)
    return Response(
        charts.day_bars(found.conversations_per_day, "Gesprekken per dag"),
        media_type="image/svg+xml",
        headers={"Cache-Control": "no-store"},
    )


# ---- results (issue 15): per life domain and team, referrals, first contact, follow-ups ----

TeamFilter = Annotated[int | None, Query(ge=1, le=MAX_ID, description="One team's results only")]
RESULT_PARTS = [
    ("improved", "verbeterd", "#0b6e3a"),
    ("same", "gelijk", "#8a8a8a"),
    ("referred", "doorverwezen", "#0b4f8a"),
]
URGENCY_LABELS = {"crisis": "Crisis", "urgent": "Urgent", "normal": "Normaal"}


class FirstContact(BaseModel):
    count: int
    median: float
    p90: float
    within_norm: int
    over_norm: int
    within_share: float | None
    no_contact: int
    norm: str


class OfferCount(BaseModel):
    key: str
    name: str
    kind: str
    example: bool
    count: int


class ResultsOut(BaseModel):
    start: dt.date
    end: dt.date
    team_id: int | None
    per_domain: dict[str, dict[str, int]]
    per_team: dict[str, dict[str, int]]
    referrals: dict[str, int]
    referrals_per_offer: list[OfferCount]
    first_contact: dict[str, FirstContact]
    norm_source: str
    followups: dict[str, int] | None
    """None: follow-ups are not there yet; the page says "nog niet beschikbaar"."""


def _results(
    desk: DeskState, start: dt.date | None, end: dt.date | None, team_id: int | None
) -> dashboard_results.Results:
    first, last = _period(start, end)
    with desk.sessions() as session:
        return dashboard_results.results(session, first, last, team_id)


def _svg(body: str) -> Response:
    return Response(body, media_type="image/svg+xml", headers={"Cache-Control": "no-store"})


@router.get("/results", response_model=ResultsOut, summary="Results for a period and optionally one team")
async def results_view(
    admin: CurrentAdmin, desk: Desk, start: Day = None, end: Day = None, team_id: TeamFilter = None
) -> Any:
    found = _results(desk, start, end, team_id)
    return ResultsOut(**found.__dict__)


@router.get("/results/domains.svg", response_class=Response, summary="Results per life domain (SVG)")
async def domains_chart(
    admin: CurrentAdmin, desk: Desk, start: Day = None, end: Day = None, team_id: TeamFilter = None
) -> Response:
    found = _results(desk, start, end, team_id)
    return _svg(charts.stacked_bars(found.per_domain, RESULT_PARTS, "Resultaat per levensgebied"))


@router.get("/results/teams.svg", response_class=Response, summary="Results per team (SVG)")
async def teams_chart(
    admin: CurrentAdmin, desk: Desk, start: Day = None, end: Day = None, team_id: TeamFilter = None
) -> Response:
    found = _results(desk, start, end, team_id)
    return _svg(charts.stacked_bars(found.per_team, RESULT_PARTS, "Resultaat per team"))


@router.get("/results/referrals.svg", response_class=Response, summary="Referrals per place, informal and formal (SVG)")
async def referrals_chart(
    admin: CurrentAdmin, desk: Desk, start: Day = None, end: Day = None, team_id: TeamFilter = None
) -> Response:
    found = _results(desk, start, end, team_id)
    rows = {
        item["name"] + (" (voorbeeld)" if item["example"] else ""): {item["kind"]: item["count"]}
        for item in found.referrals_per_offer
    }
    parts = [("informal", "informeel", "#0b6e3a"), ("formal", "formeel", "#0b4f8a")]
    return _svg(charts.stacked_bars(rows, parts, "Doorverwijzingen naar informele en formele hulp"))


@router.get("/results/first-contact.svg", response_class=Response, summary="Time to first contact vs the Wgs (SVG)")
async def first_contact_chart(
    admin: CurrentAdmin, desk: Desk, start: Day = None, end: Day = None, team_id: TeamFilter = None
) -> Response:
    found = _results(desk, start, end, team_id)
    rows = [
        (
            URGENCY_LABELS[u],
            found.first_contact[u],
            dashboard_results.norm_minutes(u),
            dashboard_results.NORMS[u],
        )
        for u in dashboard_results.URGENCIES
    ]
    return _svg(charts.first_contact(rows, "Tijd tot het eerste contact met een medewerker, per urgentie"))
