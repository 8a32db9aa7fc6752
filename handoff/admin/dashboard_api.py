"""Admin dashboard: figures and a chart for a period the admin picks."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Response
from pydantic import BaseModel

from baken_core import knowledge
from handoff.admin import charts, dashboard
from handoff.deps import CurrentAdmin, Desk, DeskState

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
