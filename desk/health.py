"""`/healthz`: whether a citizen's message would be answered now."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text

from handoff.deps import desk_state
from handoff.store import processing

log = logging.getLogger(__name__)

router = APIRouter()


@router.get("/healthz", tags=["health"], summary="Desk, database, Rasa, and what is waiting")
async def healthz(request: Request) -> JSONResponse:
    """`ready` is true only when a citizen's message would be answered now: the database
    answers and Rasa has a model loaded (`rasa`: ready / loading / down). Also: citizen
    messages waiting for an answer, and outgoing messages pending or failed."""
    database = True
    backlog = None
    try:
        with desk_state(request).sessions() as session:
            session.execute(text("SELECT 1"))
            backlog = processing.backlog(session)
    except Exception:
        log.warning("healthz: the database did not answer", exc_info=True)
        database = False
    rasa = await desk_state(request).assistant.readiness()
    body: dict[str, Any] = {
        "desk": "ok",
        "database": "ok" if database else "down",
        "rasa": rasa,
        "ready": database and rasa == "ready",
    }
    if backlog is not None:
        body.update(
            waiting_for_answer=backlog.waiting_for_answer,
            oldest_waiting_s=backlog.oldest_waiting_s,
            deliveries_pending=backlog.deliveries_pending,
            deliveries_failed=backlog.deliveries_failed,
        )
    return JSONResponse(body, status_code=200 if database else 503)
