"""Admin API for privacy: what retention will delete when, and erasure on a citizen's request.

`GET /api/admin/retention` lists each kind of stored data with its period, how much of it
goes at the next round, how much within a week, and when the first of it goes. `POST
/api/admin/erase` erases the citizen of a conversation (all their conversations) with a
reason that goes into the audit log.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from handoff.deps import CurrentAdmin, Desk, get_or_404
from handoff.store import retention
from handoff.store.db import MAX_ID
from handoff.store.models import (
    AuditLog,
    Conversation,
    ConversationStatus,
    Handoff,
    JobLease,
    Message,
    NluInboxItem,
    PurgeTask,
    TrainingExample,
    as_utc,
    utcnow,
)

router = APIRouter(prefix="/api/admin", tags=["admin"])
WEEK = dt.timedelta(days=7)


class Kind(BaseModel):
    kind: str
    label: str
    kept: str
    """How long, in words (Dutch)."""
    due_now: int
    """Goes at the next round of the retention job."""
    due_within_week: int
    next_at: dt.datetime | None
    """When the first item still kept goes (None: nothing kept, or nothing goes by itself)."""
    automatic: bool = True
    """False: retention never deletes this kind by itself (a person or an erasure does)."""
    stored: int | None = None
    """How many are kept now, for a kind that does not go by itself."""


class Retention(BaseModel):
    kinds: list[Kind]
    never_automatic: int
    """Conversations waiting for or with a worker: retention leaves them until a worker closes them."""
    last_run: dt.datetime | None
    next_run: dt.datetime | None
    pending_purges: int
    """Files and trackers still to delete (retried every minute)."""


def _days(delta: dt.timedelta) -> str:
    if delta < dt.timedelta(days=1):
        hours = round(delta.total_seconds() / 3600)
        return f"{hours} uur"
    days = delta.days
    return "1 dag" if days == 1 else f"{days} dagen"


def _kind(
    session: Session,
    kind: str,
    label: str,
    kept: str,
    moment: InstrumentedAttribute[Any] | ColumnElement[Any],
    keep: dt.timedelta,
    now: dt.datetime,
    *where: ColumnElement[bool],
) -> Kind:
    """Counts of items whose `moment` (closing, writing) plus `keep` is due now / in a week."""

    def count(before: dt.datetime) -> int:
        return int(session.scalar(select(func.count()).where(*where, moment < before)) or 0)

    first = session.scalar(select(func.min(moment)).where(*where))
    if isinstance(first, dt.datetime):
        first = as_utc(first)
    return Kind(
        kind=kind,
        label=label,
        kept=kept,
        due_now=count(now - keep),
        due_within_week=count(now + WEEK - keep),
        next_at=max(first + keep, now) if isinstance(first, dt.datetime) else None,
    )


@router.get("/retention", response_model=Retention, summary="What retention deletes, and when")
async def retention_overview(admin: CurrentAdmin, desk: Desk) -> Any:
    policy, now = desk.retention, utcnow()
    closed = Conversation.status == ConversationStatus.closed
    with_files = select(Message.id).where(Message.conversation_id == Conversation.id, Message.attachments.is_not(None))
    tracker_keep = policy.trackers
    with desk.sessions() as session:
        kinds = [
            _kind(
                session,
                "attachments",
                "Foto's en bestanden",
                f"{_days(policy.attachments)} na het sluiten van het gesprek",
                Conversation.closed_at,
                policy.attachments,
                now,
                closed,
                Conversation.attachments_deleted_at.is_(None),
                with_files.exists(),
            ),
            _kind(
                session,
                "summaries",
                "Samenvattingen en afsluitnotities",
                f"{_days(policy.summaries)} na het sluiten",
                Handoff.closed_at,
                policy.summaries,
                now,
                Handoff.closed_at.is_not(None),
                (Handoff.summary != "") | Handoff.case_note.is_not(None),
            ),
            _kind(
                session,
                "conversations",
                "Gesprekken met alle berichten",
                f"{_days(policy.conversations)} na het sluiten",
                Conversation.closed_at,
                policy.conversations,
                now,
                closed,
            ),
            _kind(
                session,
                "idle",
                "Gesprekken die bij de assistent bleven",
                f"{_days(policy.conversations)} na het laatste bericht",
                retention.last_activity(),
                policy.conversations,
                now,
                Conversation.status == ConversationStatus.bot,
            ),
            _kind(
                session,
                "trackers",
                "Wat de assistent onthield (Rasa)",
                f"{_days(tracker_keep)} na het sluiten",
                Conversation.closed_at,
                tracker_keep,
                now,
                closed,
                Conversation.tracker_deleted_at.is_(None),
            ),
            _kind(
                session,
                "nlu_inbox",
                "Niet begrepen berichten (gemaskeerd)",
                f"{_days(dt.timedelta(days=desk.thresholds.retention_days))} na binnenkomst",
                NluInboxItem.expires_at,
                dt.timedelta(0),
                now,
            ),
            Kind(
                kind="training_examples",
                label="Trainingsvoorbeelden (gemaskeerd, met het juiste antwoord)",
                kept=(
                    "Zolang ze trainingsdata zijn; weg als een beheerder ze verwijdert, "
                    "of met het gesprek als de inwoner wist"
                ),
                due_now=0,
                due_within_week=0,
                next_at=None,
                automatic=False,
                stored=int(session.scalar(select(func.count()).select_from(TrainingExample)) or 0),
            ),
            _kind(
                session,
                "audit",
                "Logboek (wie wat deed, zonder berichten)",
                f"{_days(policy.audit)}",
                AuditLog.at,
                policy.audit,
                now,
            ),
        ]
        never = session.scalar(
            select(func.count()).where(
                Conversation.status.in_([ConversationStatus.queued, ConversationStatus.with_worker])
            )
        )
        lease = session.get(JobLease, "retention")
        pending = session.scalar(select(func.count()).select_from(PurgeTask))
    return Retention(
        kinds=kinds,
        never_automatic=int(never or 0),
        last_run=as_utc(lease.finished_at) if lease and lease.finished_at else None,
        next_run=as_utc(lease.due_at) if lease else None,
        pending_purges=int(pending or 0),
    )


class EraseRequest(BaseModel):
    conversation_id: Annotated[int, Field(ge=1, le=MAX_ID)]
    reason: Annotated[str, Field(min_length=5, max_length=500, pattern=r"^[^\x00]*$")]


class EraseResult(BaseModel):
    erased_conversations: list[int]


@router.post("/erase", response_model=EraseResult, summary="Erase a citizen on their request")
async def erase(body: EraseRequest, admin: CurrentAdmin, desk: Desk) -> Any:
    """Everything of the citizen behind this conversation: all their conversations, messages,
    files, NLU inbox items and Rasa trackers. The reason goes into the audit log."""
    with desk.sessions() as session:
        conversation = get_or_404(session, Conversation, body.conversation_id, "Dit gesprek bestaat niet (meer).")
        channel, external_id = conversation.channel, conversation.citizen.external_id
    if desk.erase is None:
        raise HTTPException(503, "Wissen kan nu niet. Probeer het zo nog eens.")
    erased = await desk.erase(channel, external_id, worker=admin, reason=body.reason.strip())
    return EraseResult(erased_conversations=list(getattr(erased, "conversation_ids", [])))
