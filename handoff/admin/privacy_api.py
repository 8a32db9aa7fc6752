"""Admin API for privacy: what retention will delete when, and erasure on a citizen's request.

`GET /api/admin/retention` lists each kind of stored data with its period, how much of it
goes at the next round, how much within a week, and when the first of it goes. `POST
/api/admin/erase` erases the citizen of a conversation (all their conversations) with a
reason that goes into the audit log.

A citizen who asks by phone or letter rarely knows a conversation number: `POST
/api/admin/erase/lookup` finds it by channel and date range (and, for Telegram, the first
name Telegram gave us), with a reason in the audit log first, as the inbox's need-to-know
rules ask for reading anything that is not one's own (handoff/inbox/access.py). It shows
only what is needed to recognise the conversation: number, channel, dates, status and the
first words of the summary; the audit entry holds the reason and the numbers shown, not the
name that was searched for.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from handoff.deps import CurrentAdmin, Desk, get_or_404
from handoff.store import conversations as convs
from handoff.store import retention
from handoff.store.db import MAX_ID
from handoff.store.models import (
    AuditLog,
    Channel,
    Citizen,
    Conversation,
    ConversationStatus,
    FollowUp,
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
                "followups",
                "Vervolgvragen en herinneringen (zonder berichttekst)",
                f"Met hun gesprek: {_days(policy.conversations)} na het sluiten",
                Conversation.closed_at,
                policy.conversations,
                now,
                closed,
                FollowUp.conversation_id == Conversation.id,
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


LOOKUP_LIMIT = 50
FIRST_WORDS = 8
Reason = Annotated[str, Field(min_length=5, max_length=500, pattern=r"^[^\x00]*$")]


class LookupRequest(BaseModel):
    channel: Literal["telegram", "widget"]
    date_from: dt.date
    date_to: dt.date
    """Days in the municipality's time zone, both included: conversations that ran on any of them."""
    first_name: Annotated[str | None, Field(max_length=128, pattern=r"^[^\x00]*$")] = None
    """Telegram only: the first name as Telegram gave it (case does not matter)."""
    reason: Reason


class Found(BaseModel):
    id: int
    channel: str
    started: dt.datetime
    closed: dt.datetime | None
    status: str
    summary_start: str | None
    """The first words of what the citizen wrote in the summary (or of the summary), if any."""


class LookupResult(BaseModel):
    conversations: list[Found]
    more: bool
    """More than the list shows: make the period shorter."""


def _first_words(summary: str) -> str | None:
    """From a handoff summary (baken_core/summary.py): the citizen's first quoted line if there
    is one (that is what a caller recognises), else the summary's first line; a few words only."""
    lines = [line.strip() for line in summary.splitlines() if line.strip()]
    if not lines:
        return None
    quoted = [line for line in lines if line.startswith('- "')]
    text = quoted[0][3:].rstrip('"') if quoted else lines[0]
    words = text.split()
    return " ".join(words[:FIRST_WORDS]) + (" …" if len(words) > FIRST_WORDS else "")


@router.post("/erase/lookup", response_model=LookupResult, summary="Find a citizen's conversations to erase them")
async def erase_lookup(body: LookupRequest, admin: CurrentAdmin, desk: Desk) -> Any:
    """Conversations of one channel that ran on the given days (newest first, at most 50),
    for Telegram optionally only those of a first name. The reason goes into the audit log
    with the numbers shown; the searched name does not. A POST, so no name is in a URL."""
    if body.date_to < body.date_from:
        raise HTTPException(422, "De einddatum ligt voor de begindatum.")
    if (body.first_name or "").strip() and body.channel != "telegram":
        raise HTTPException(422, "Een voornaam kennen we alleen van Telegram. Zoek bij de website zonder naam.")
    if body.date_to - body.date_from > dt.timedelta(days=366):
        raise HTTPException(422, "Kies een periode van hoogstens een jaar.")
    zone = desk.hours.current.timezone
    start = dt.datetime.combine(body.date_from, dt.time(), zone)
    end = dt.datetime.combine(body.date_to + dt.timedelta(days=1), dt.time(), zone)
    name = (body.first_name or "").strip().casefold()
    found: list[Found] = []
    more = False
    with desk.sessions.begin() as session:
        rows = session.execute(
            select(Conversation, Citizen.display_name)
            .join(Citizen, Citizen.id == Conversation.citizen_id)
            .where(
                Conversation.channel == Channel(body.channel),
                Conversation.created_at < end,
                (Conversation.closed_at.is_(None)) | (Conversation.closed_at >= start),
            )
            .order_by(Conversation.id.desc())
        )
        for conversation, display_name in rows:
            if name and (display_name or "").strip().casefold() != name:
                continue
            if len(found) == LOOKUP_LIMIT:
                more = True
                break
            summary = session.scalar(
                select(Handoff.summary)
                .where(Handoff.conversation_id == conversation.id, Handoff.summary != "")
                .order_by(Handoff.id.desc())
                .limit(1)
            )
            found.append(
                Found(
                    id=conversation.id,
                    channel=conversation.channel.value,
                    started=as_utc(conversation.created_at),
                    closed=as_utc(conversation.closed_at) if conversation.closed_at else None,
                    status=conversation.status.value,
                    summary_start=_first_words(summary) if summary else None,
                )
            )
        convs.audit(
            session,
            "erase_lookup",
            worker=admin,
            detail={
                "reason": body.reason.strip(),
                "channel": body.channel,
                "from": body.date_from.isoformat(),
                "to": body.date_to.isoformat(),
                "by_first_name": bool(name),
                "conversations": [f.id for f in found],
            },
        )
    return LookupResult(conversations=found, more=more)
