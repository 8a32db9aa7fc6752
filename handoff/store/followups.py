"""Follow-up with consent (issue 15, "direct erop af"): one check-in a week later, and a
worker's own "ik kom er op <datum> op terug".

A check-in is offered, never pushed: the offer is a question with two buttons and nothing
is scheduled without a yes. When it is due, a periodic job (desk/lifespan.py, once per
round across desk processes: handoff/store/job_leases.py) stores the check-in as a message
in the citizen's conversation, which the outbox delivers on Telegram and the widget shows
when the citizen opens it again (the widget cannot be pushed to). Taking a due row is a
guarded UPDATE (`scheduled` -> `sent`) in the transaction that stores the message, with
the message's dedupe key `followup:<id>`: two processes never both deliver it.

Quiet hours: no check-in arrives between 21:00 and 9:00 Amsterdam time; one that falls
due then (or a job that runs late at night) moves to 9:00. Stop: "Stop met vragen" (or
/stop on Telegram) cancels every check-in of the citizen that is not done, and no new one
is offered to them. Erasure and retention delete the rows with the citizen and the
conversation (ON DELETE CASCADE; erasure.py also deletes them by name).

States: offered -> scheduled (yes) | declined (no); scheduled -> sent (delivered) |
cancelled (stop); sent -> answered ("gelukt", "lukt_niet") | cancelled ("gestopt"). A
worker's reminder: scheduled -> sent (shown in their inbox) -> answered (done) or
cancelled. Functions take a session and flush; the caller commits.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from handoff.store import conversations as convs
from handoff.store.db import is_postgresql
from handoff.store.models import (
    Author,
    Citizen,
    Conversation,
    ConversationStatus,
    FollowUp,
    FollowUpKind,
    FollowUpState,
    Processing,
    Worker,
    as_utc,
    utcnow,
)

ZONE = ZoneInfo("Europe/Amsterdam")
QUIET_FROM = dt.time(21, 0)
QUIET_UNTIL = dt.time(9, 0)
"""No check-in arrives between 21:00 and 9:00 local time (a phone buzzing at night helps nobody)."""
CHECKIN_AFTER = dt.timedelta(days=7)
BATCH = 50

OFFER = "Zal ik over een week vragen hoe het ging? Dat hoeft niet: kies wat jij wilt."
CHECKIN = (
    "Hoi, een week geleden vroeg ik of ik mocht terugkomen op je vraag. Hoe ging het? "
    "Kies hieronder. Je mag ook gewoon typen."
)
YES_TELEGRAM = (
    "Goed. Over een week stuur ik je hier een bericht met de vraag hoe het ging. "
    "Wil je dat toch niet? Tik dan op 'Stop met vragen' of stuur /stop."
)
YES_WIDGET = (
    "Goed. Over een week staat hier mijn vraag hoe het ging. Je ziet hem als je deze chat weer opent. "
    "Wil je dat toch niet? Kies dan 'Stop met vragen'."
)
NO = "Goed, dan vraag ik het niet. Je kunt altijd zelf terugkomen met een vraag."
DONE = "Fijn dat het gelukt is! Als er iets nieuws is, kun je hier altijd een vraag stellen."
NOT_DONE = (
    "Jammer dat het niet lukte. Ik zet je vraag bij een medewerker. Je hoeft je verhaal niet opnieuw te vertellen."
)
NOT_DONE_WITH_PEOPLE = "Jammer dat het niet lukte. De medewerker ziet je antwoord."
STOPPED = "Goed, ik vraag je niets meer. Je kunt altijd zelf terugkomen met een vraag."
ALREADY = "Je keuze was al bewaard. Je kunt gewoon verder typen als je nog een vraag hebt."
TOLD_DATE = "Je hoort uiterlijk {when} van ons."

CHOICES = {
    "ja": "Ja, vraag het me over een week",
    "nee": "Nee, dank je",
    "gelukt": "Gelukt",
    "lukt_niet": "Het lukt niet",
    "stop": "Stop met vragen",
}
PAYLOAD = re.compile(r"^/baken_vervolg:(ja|nee|gelukt|lukt_niet|stop):([0-9]{1,9})$")
PENDING = (FollowUpState.offered, FollowUpState.scheduled, FollowUpState.sent)


def payload(choice: str, followup_id: int) -> str:
    """A button's payload (at most 64 bytes for Telegram's callback data); the desk answers it."""
    return f"/baken_vervolg:{choice}:{followup_id}"


def parse_payload(text: str) -> tuple[str, int] | None:
    found = PAYLOAD.match(text.strip())
    return (found.group(1), int(found.group(2))) if found else None


def buttons(followup_id: int, *choices: str) -> list[dict[str, Any]]:
    return [{"title": CHOICES[c], "payload": payload(c, followup_id)} for c in choices]


def allowed_time(moment: dt.datetime) -> dt.datetime:
    """`moment`, or the end of the quiet hours it falls in (9:00 Amsterdam time)."""
    local = as_utc(moment).astimezone(ZONE)
    if QUIET_UNTIL <= local.time() < QUIET_FROM:
        return as_utc(moment)
    day = local.date() if local.time() < QUIET_UNTIL else local.date() + dt.timedelta(days=1)
    return dt.datetime.combine(day, QUIET_UNTIL, tzinfo=ZONE).astimezone(dt.timezone.utc)


def _utc(moment: dt.datetime) -> dt.datetime:
    return as_utc(moment).astimezone(dt.timezone.utc)


def stopped(session: Session, citizen_id: int) -> bool:
    """The citizen said "stop met vragen" once: no check-in is offered to them again."""
    return (
        session.scalar(
            select(FollowUp.id).where(FollowUp.citizen_id == citizen_id, FollowUp.outcome == "gestopt").limit(1)
        )
        is not None
    )


def offer(
    session: Session, conversation: Conversation, reason: str, *, worker: Worker | None = None
) -> FollowUp | None:
    """Ask the citizen whether they want one check-in (two buttons); None when it was not
    asked: it was asked in this conversation before, or the citizen said stop."""
    if stopped(session, conversation.citizen_id):
        return None
    already = session.scalar(  # asked once per conversation: a "no" is not asked again
        select(FollowUp.id)
        .where(FollowUp.conversation_id == conversation.id, FollowUp.kind == FollowUpKind.checkin)
        .limit(1)
    )
    if already is not None:
        return None
    followup = FollowUp(
        kind=FollowUpKind.checkin,
        state=FollowUpState.offered,
        conversation_id=conversation.id,
        citizen_id=conversation.citizen_id,
        team_id=conversation.team_id,
        worker_id=worker.id if worker else None,
        reason=reason,
    )
    session.add(followup)
    session.flush()
    convs.record_message(session, conversation, Author.system, OFFER, buttons=buttons(followup.id, "ja", "nee"))
    return followup


@dataclass
class Answer:
    """What a pressed follow-up button did; the dispatcher stores nothing else."""

    conversation: Conversation
    """Where the choice and the reply were stored."""
    message_id: int
    duplicate: bool = False
    replies: list[str] = field(default_factory=list)
    help_again: FollowUp | None = None
    """ "Het lukt niet": the dispatcher queues `conversation` for this follow-up's team."""


def answer(
    session: Session,
    citizen: Citizen,
    followup_id: int,
    choice: str,
    *,
    dedupe_key: str | None = None,
    now: dt.datetime | None = None,
) -> Answer:
    """The citizen pressed a follow-up button: store what they chose (the button's title) and
    the reply, and change the follow-up. A button of someone else's follow-up, or an old one,
    is answered kindly and changes nothing."""
    now = _utc(now or utcnow())
    followup = session.get(FollowUp, followup_id)
    if followup is not None and followup.citizen_id != citizen.id:
        followup = None
    conversation = _where_to_answer(session, citizen, followup)
    stored, created = convs.record_message(
        session, conversation, Author.citizen, CHOICES[choice], dedupe_key=dedupe_key
    )
    result = Answer(conversation, stored.id, duplicate=not created)
    if not created:
        return result
    stored.processing = Processing.done  # the desk answers it here; it never goes to the assistant
    result.replies = _apply(session, citizen, followup, choice, conversation, now, result)
    for text in result.replies:
        convs.record_message(session, conversation, Author.system, text, reply_to=stored.id)
    session.flush()
    return result


def _where_to_answer(session: Session, citizen: Citizen, followup: FollowUp | None) -> Conversation:
    """The conversation that showed the buttons, if it is still the citizen's latest; else
    their open conversation or a new one."""
    ids = [followup.checkin_conversation_id, followup.conversation_id] if followup is not None else []
    latest = session.scalar(
        select(Conversation).where(Conversation.citizen_id == citizen.id).order_by(Conversation.id.desc()).limit(1)
    )
    if latest is not None and latest.id in ids:
        return latest
    return convs.active_conversation(session, citizen)


def _apply(
    session: Session,
    citizen: Citizen,
    followup: FollowUp | None,
    choice: str,
    conversation: Conversation,
    now: dt.datetime,
    result: Answer,
) -> list[str]:
    if choice == "stop":
        cancel_for_citizen(session, citizen.id, now)
        return [STOPPED]
    if followup is None or followup.kind is not FollowUpKind.checkin:
        return [ALREADY]
    if choice in ("ja", "nee"):
        if followup.state is not FollowUpState.offered:
            return [ALREADY]
        if choice == "nee":
            followup.state = FollowUpState.declined
            followup.answered_at = now
            return [NO]
        followup.state = FollowUpState.scheduled
        followup.scheduled_at = now
        followup.due_at = allowed_time(now + CHECKIN_AFTER)
        return [YES_WIDGET if citizen.channel.value == "widget" else YES_TELEGRAM]
    if followup.state is not FollowUpState.sent:
        return [ALREADY]
    followup.state = FollowUpState.answered
    followup.answered_at = now
    followup.outcome = choice
    if choice == "gelukt":
        return [DONE]
    if conversation.status is not ConversationStatus.bot:  # a worker has it already, or will
        return [NOT_DONE_WITH_PEOPLE]
    result.help_again = followup
    return [NOT_DONE]


def cancel_for_citizen(session: Session, citizen_id: int, now: dt.datetime | None = None) -> int:
    """Stop: every check-in of this citizen that is not done is cancelled (and none offered again)."""
    result = session.execute(
        update(FollowUp)
        .where(
            FollowUp.citizen_id == citizen_id,
            FollowUp.kind == FollowUpKind.checkin,
            FollowUp.state.in_(PENDING),
        )
        .values(state=FollowUpState.cancelled, outcome="gestopt", answered_at=now or utcnow())
        .execution_options(synchronize_session=False)
    )
    session.expire_all()
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def delete_for_citizen(session: Session, citizen_id: int) -> None:
    """Erasure: the citizen's follow-ups go with them (also by ON DELETE CASCADE)."""
    session.execute(
        delete(FollowUp).where(FollowUp.citizen_id == citizen_id), execution_options={"synchronize_session": False}
    )


def schedule_reminder(
    session: Session, conversation: Conversation, worker: Worker, due_at: dt.datetime, note: str, *, tell: bool
) -> FollowUp:
    """A worker's own "ik kom er op <datum> op terug": a reminder in their inbox at `due_at`;
    with `tell`, the citizen reads the date ("Je hoort uiterlijk … van ons")."""
    reminder = FollowUp(
        kind=FollowUpKind.reminder,
        state=FollowUpState.scheduled,
        conversation_id=conversation.id,
        citizen_id=conversation.citizen_id,
        team_id=conversation.team_id,
        worker_id=worker.id,
        reason="worker",
        due_at=_utc(due_at),
        note=note or None,
        tell_citizen=tell,
        scheduled_at=utcnow(),
    )
    session.add(reminder)
    session.flush()
    return reminder


@dataclass(frozen=True)
class Delivered:
    """What one job round did, for the live events after its commit."""

    followup_id: int
    kind: FollowUpKind
    conversation_id: int
    citizen_id: int
    worker_id: int | None


def deliver_due(session: Session, now: dt.datetime | None = None) -> list[Delivered]:
    """One round: due check-ins stored for the citizen (outside quiet hours), due reminders
    shown to their worker. Each row is taken with a guarded UPDATE, so of two processes
    (or two rounds) at the same moment exactly one delivers it."""
    now = _utc(now or utcnow())  # SQLite compares the stored text: UTC on both sides
    due = (
        select(FollowUp)
        .where(FollowUp.state == FollowUpState.scheduled, FollowUp.due_at <= now)
        .order_by(FollowUp.due_at, FollowUp.id)
        .limit(BATCH)
    )
    if is_postgresql(session):
        due = due.with_for_update(skip_locked=True)
    done: list[Delivered] = []
    for followup in session.scalars(due).all():
        if followup.kind is FollowUpKind.checkin:
            allowed = allowed_time(now)
            if allowed > now:  # quiet hours: it comes at 9:00
                followup.due_at = allowed
                continue
        taken = session.execute(
            update(FollowUp)
            .where(FollowUp.id == followup.id, FollowUp.state == FollowUpState.scheduled)
            .values(state=FollowUpState.sent, sent_at=now)
            .execution_options(synchronize_session=False)
        )
        if taken.rowcount != 1:  # type: ignore[attr-defined]
            continue
        conversation_id = followup.conversation_id
        if followup.kind is FollowUpKind.checkin:
            conversation_id = _store_checkin(session, followup)
        done.append(Delivered(followup.id, followup.kind, conversation_id, followup.citizen_id, followup.worker_id))
    session.flush()
    return done


def _store_checkin(session: Session, followup: FollowUp) -> int:
    """The check-in as a message in the citizen's open conversation, or in a new one for the
    same team (a closed conversation is not reopened)."""
    citizen = session.get(Citizen, followup.citizen_id)
    assert citizen is not None
    conversation = convs.open_conversation(session, citizen)
    if conversation is None:
        origin = session.get(Conversation, followup.conversation_id)
        conversation = convs.active_conversation(session, citizen, origin.source if origin else None)
        conversation.team_id = followup.team_id
    convs.record_message(
        session,
        conversation,
        Author.system,
        CHECKIN,
        buttons=buttons(followup.id, "gelukt", "lukt_niet", "stop"),
        dedupe_key=f"followup:{followup.id}",
    )
    session.execute(
        update(FollowUp)
        .where(FollowUp.id == followup.id)
        .values(checkin_conversation_id=conversation.id)
        .execution_options(synchronize_session=False)
    )
    return conversation.id


def reminders_for(session: Session, worker_id: int) -> list[FollowUp]:
    """A worker's reminders, due ones (`sent`) first, then the ones still to come."""
    rows = session.scalars(
        select(FollowUp)
        .where(
            FollowUp.kind == FollowUpKind.reminder,
            FollowUp.worker_id == worker_id,
            FollowUp.state.in_((FollowUpState.scheduled, FollowUpState.sent)),
        )
        .order_by(FollowUp.due_at, FollowUp.id)
    ).all()
    return sorted(rows, key=lambda f: f.state is not FollowUpState.sent)


def finish_reminder(session: Session, reminder_id: int, worker_id: int, now: dt.datetime | None = None) -> bool:
    """The worker did what they said (or drops it): the reminder leaves their inbox."""
    result = session.execute(
        update(FollowUp)
        .where(
            FollowUp.id == reminder_id,
            FollowUp.kind == FollowUpKind.reminder,
            FollowUp.worker_id == worker_id,
            FollowUp.state.in_((FollowUpState.scheduled, FollowUpState.sent)),
        )
        .values(state=FollowUpState.answered, answered_at=now or utcnow())
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]
