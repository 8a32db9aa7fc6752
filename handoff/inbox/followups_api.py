"""Follow-up in the inbox (issue 15, handoff/store/followups.py).

- "Vervolgvraag aanbieden": the worker who has (or had, and closed) a conversation offers the
  citizen one check-in a week later. The citizen gets the question with two buttons; nothing
  is scheduled without their yes. Separate from closing, so the close dialog stays as it is.
- "Ik kom er op <datum> op terug": on a conversation they have claimed, a worker sets their
  own reminder with a short note; on that day (9:00, Amsterdam time) it appears in their
  inbox (a live `followup_reminder` event, and listed). Only if the worker ticks it, the
  citizen reads the date: "Je hoort uiterlijk <datum> van ons."
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from baken_core.text import dutch_date
from handoff.deps import ConversationId, CurrentWorker, Desk, ModelId
from handoff.inbox import access
from handoff.store import conversations as convs
from handoff.store import followups
from handoff.store.models import (
    Author,
    Conversation,
    ConversationStatus,
    FollowUpState,
    Handoff,
    Worker,
    as_utc,
    utcnow,
)
from handoff.store.office_hours import DUTCH_DAYS

router = APIRouter(prefix="/api/inbox", tags=["inbox"])

GONE = "Dit gesprek bestaat niet (meer): de inwoner kan het hebben gewist, of de bewaartermijn is voorbij."
REMINDER_AT = dt.time(9, 0)
LONGEST_AHEAD = dt.timedelta(days=90)


class Offered(BaseModel):
    offered: bool
    text: str


class ReminderRequest(BaseModel):
    due_on: dt.date
    """The day the worker comes back to it (the reminder shows at 9:00 Amsterdam time)."""
    note: Annotated[str, Field(max_length=300, pattern=r"^[^\x00]*$")] = ""
    tell_citizen: bool = False
    """Send the citizen "Je hoort uiterlijk <datum> van ons." (only when the worker chooses it)."""


class Reminder(BaseModel):
    id: int
    conversation_id: int
    due_at: str
    due_on_text: str
    note: str | None
    due: bool
    """It is that day: the reminder is shown (not merely planned)."""


def _conversation(session: Session, conversation_id: int) -> Conversation:
    conversation = session.get(Conversation, conversation_id)
    if conversation is None:
        raise HTTPException(404, GONE)
    return conversation


def _was_theirs(session: Session, conversation: Conversation, worker: Worker) -> bool:
    """Their conversation now, or the last handoff of a closed one was theirs."""
    if access.is_own(conversation, worker) and conversation.status is ConversationStatus.with_worker:
        return True
    if conversation.status is not ConversationStatus.closed:
        return False
    last = session.scalar(
        select(Handoff.worker_id).where(Handoff.conversation_id == conversation.id).order_by(Handoff.id.desc()).limit(1)
    )
    return last == worker.id


@router.post(
    "/conversations/{conversation_id}/followup-offer",
    response_model=Offered,
    summary="Offer the citizen one check-in a week later (they choose; nothing without a yes)",
)
async def offer(conversation_id: ConversationId, worker: CurrentWorker, desk: Desk) -> Any:
    with desk.sessions.begin() as session:
        conversation = _conversation(session, conversation_id)
        if not _was_theirs(session, conversation, worker):
            raise HTTPException(409, "Alleen bij een gesprek dat bij jou ligt (of dat jij afsloot) bied je dit aan.")
        stored = session.get(Worker, worker.id)
        followup = followups.offer(session, conversation, "closed", worker=stored)
        if followup is None:
            raise HTTPException(409, "De inwoner kreeg deze vraag in dit gesprek al, of wil geen vervolgvragen meer.")
        convs.audit(session, "followup_offer", worker=stored, conversation=conversation)
        channel, citizen_id = conversation.channel, conversation.citizen_id
    desk.bus.publish(
        {"type": "message", "conversation_id": conversation_id, "citizen_id": citizen_id, "author": "system"}
    )
    desk.wake_outbox(channel)
    return Offered(offered=True, text="De inwoner krijgt de vraag. Alleen bij 'ja' komt er over een week een vraag.")


def _day_text(day: dt.date) -> str:
    return f"{DUTCH_DAYS[day.weekday()]} {dutch_date(day, year=False)}"


def _reminder(row: Any) -> Reminder:
    due_at = as_utc(row.due_at)
    local = due_at.astimezone(followups.ZONE)
    return Reminder(
        id=row.id,
        conversation_id=row.conversation_id,
        due_at=due_at.isoformat(),
        due_on_text=_day_text(local.date()),
        note=row.note,
        due=row.state is FollowUpState.sent,
    )


@router.post(
    "/conversations/{conversation_id}/reminders",
    response_model=Reminder,
    status_code=201,
    summary="Come back to your conversation on a day: a reminder in your inbox (optionally the date for the citizen)",
)
async def add_reminder(
    conversation_id: ConversationId, body: ReminderRequest, worker: CurrentWorker, desk: Desk
) -> Any:
    today = utcnow().astimezone(followups.ZONE).date()
    if body.due_on < today or body.due_on > today + LONGEST_AHEAD:
        raise HTTPException(422, "Kies een dag vanaf vandaag, binnen drie maanden.")
    due_at = dt.datetime.combine(body.due_on, REMINDER_AT, tzinfo=followups.ZONE)
    with desk.sessions.begin() as session:
        conversation = _conversation(session, conversation_id)
        if not (access.is_own(conversation, worker) and conversation.status is ConversationStatus.with_worker):
            raise HTTPException(409, "Pak het gesprek eerst op; terugkomen doe je op je eigen gesprek.")
        stored = session.get(Worker, worker.id)
        assert stored is not None
        reminder = followups.schedule_reminder(
            session, conversation, stored, due_at, body.note.strip(), tell=body.tell_citizen
        )
        if body.tell_citizen:
            text = followups.TOLD_DATE.format(when=_day_text(body.due_on))
            convs.record_message(session, conversation, Author.worker, text, worker=stored)
        convs.audit(session, "followup_reminder", worker=stored, conversation=conversation)
        result = _reminder(reminder)
        channel, citizen_id = conversation.channel, conversation.citizen_id
    if body.tell_citizen:
        desk.bus.publish(
            {"type": "message", "conversation_id": conversation_id, "citizen_id": citizen_id, "author": "worker"}
        )
        desk.wake_outbox(channel)
    return result


@router.get("/reminders", response_model=list[Reminder], summary="Your reminders: due ones first")
async def reminders(worker: CurrentWorker, desk: Desk) -> Any:
    with desk.sessions() as session:
        return [_reminder(row) for row in followups.reminders_for(session, worker.id)]


@router.post("/reminders/{reminder_id}/done", status_code=204, summary="Done (or dropped): it leaves your inbox")
async def reminder_done(reminder_id: ModelId, worker: CurrentWorker, desk: Desk) -> None:
    with desk.sessions.begin() as session:
        if not followups.finish_reminder(session, reminder_id, worker.id):
            raise HTTPException(404, "Deze herinnering is er niet (meer).")
    desk.bus.publish({"type": "followup_done", "worker_id": worker.id})
