"""The worker inbox's JSON API: queue, claim, transcript, reply, notes, hand back, transfer,
close, colleagues, teams, standard replies, the live stream. Every view, claim, transfer and
close goes to the audit log. (Logging in: auth_api.py.)

Teams (issue 15, handoff/store/teams.py): the queue comes crisis first (every crisis, for
everyone), then the worker's own teams and the conversations of no team, then the other
teams' ("help elsewhere"); each item names its team. A transfer goes to a colleague or
back to the queue of a team, with a note the receiving side reads with the summary."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Annotated, Any, Literal

import yaml
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field, model_validator
from sqlalchemy import select
from sqlalchemy.orm import Session

from baken_core import help_offers
from baken_core.crisis import CRISIS_NUMBERS, OPENING
from baken_core.paths import data_dir
from baken_core.zrm import DOMAINS
from handoff import auth, sse, worker_sessions
from handoff.deps import ConversationId, CurrentWorker, Desk, get_or_404
from handoff.inbox import access, replies
from handoff.store import conversations as convs
from handoff.store import outcomes, queue_info, teams
from handoff.store.db import MAX_ID
from handoff.store.models import (
    Author,
    Conversation,
    ConversationStatus,
    DomainResult,
    Outcome,
    Presence,
    Role,
    Team,
    TeamMember,
    Worker,
    utcnow,
)

GONE = "Dit gesprek bestaat niet (meer): de inwoner kan het hebben gewist, of de bewaartermijn is voorbij."
router = APIRouter(prefix="/api", tags=["inbox"])

CLAIMED = (
    "{name} (medewerker) neemt het gesprek nu over. Je hoeft je verhaal niet opnieuw te vertellen: "
    "{name} leest wat je al schreef."
)
CLOSED = "De medewerker heeft het gesprek afgesloten. Je kunt altijd een nieuw gesprek beginnen door iets te typen."
TO_COLLEAGUE = "Je gesprek gaat nu naar {name} (medewerker). Je hoeft je verhaal niet opnieuw te vertellen."
TO_TEAM = "Je gesprek gaat naar {team}. Je hoeft je verhaal niet opnieuw te vertellen."


# No NUL characters: PostgreSQL text cannot hold them (a 422, not a database error).
NO_NUL = r"^[^\x00]*$"


class QueueItem(BaseModel):
    conversation_id: int
    channel: str
    source: str | None
    status: str
    urgency: str
    reason: str
    domains: list[str]
    domain_labels: list[str]
    summary: str
    waiting_seconds: int
    worker_id: int | None
    team_id: int | None = None
    team_name: str | None = None
    my_team: bool = True
    """One of the worker's teams, or no team (the shared queue); false: another team's ("help elsewhere")."""
    note: str | None = None
    """The note of the last transfer, for the receiving side."""


class TeamTab(BaseModel):
    id: int
    name: str
    mine: bool
    waiting: int
    online: int
    active: bool = True
    """A team the admin switched off is listed while conversations still wait for it."""


class Inbox(BaseModel):
    waiting: list[QueueItem]
    mine: list[QueueItem]
    teams: list[TeamTab] = []
    """Active teams (and switched-off ones that still have waiting conversations), the worker's
    own first, with how many wait and how many are online."""


class TranscriptMessage(BaseModel):
    id: int
    author: str
    text: str
    internal: bool
    attachments: list[dict[str, Any]] | None
    at: str


class Transcript(BaseModel):
    conversation_id: int
    status: str
    channel: str
    worker_id: int | None
    summary: str | None
    messages: list[TranscriptMessage]
    team_id: int | None = None
    team_name: str | None = None
    note: str | None = None
    """The note of the last transfer (with the summary: for whoever may read that)."""
    domains: list[str] = []
    """The triage's life domains of this conversation (the close dialog asks a result for each)."""
    access: Literal["own", "reason", "queue", "none"] = "own"
    """own: yours; reason: opened with a reason; queue: waiting, summary only until you claim
    it; none: not yours, opens only with a reason (POST …/read). See handoff/inbox/access.py."""


class ReadReason(BaseModel):
    reason: Annotated[str, Field(min_length=5, max_length=500, pattern=NO_NUL)]


class Reply(BaseModel):
    text: Annotated[str, Field(min_length=1, max_length=4000, pattern=NO_NUL)]
    internal: bool = False
    client_id: Annotated[str | None, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")] = None
    """The page's id for this draft: the same id again (a double click, a retry) stores nothing new."""


class DomainOutcomeIn(BaseModel):
    """A life domain's result (issue 15): improved / same / referred, and where to (an offer's key)."""

    domain: Annotated[str, Field(max_length=32)]
    result: Literal["improved", "same", "referred"]
    referral: Annotated[str | None, Field(max_length=64)] = None


class Close(BaseModel):
    outcome: Literal["resolved", "referred", "no_response"]
    case_note: Annotated[str, Field(max_length=2000, pattern=NO_NUL)] = ""
    domain_outcomes: Annotated[list[DomainOutcomeIn], Field(max_length=len(DOMAINS))] = []
    """Per life domain of the conversation (handoff/store/outcomes.py); optional."""
    reason: Annotated[str | None, Field(min_length=5, max_length=500, pattern=NO_NUL)] = None
    """Only for an admin closing a conversation that is not theirs (it goes into the audit log)."""


class Transfer(BaseModel):
    """To a colleague (`to_worker_id`) or to a team's queue (`to_team_id`), with a note."""

    to_worker_id: Annotated[int | None, Field(ge=1, le=MAX_ID)] = None
    to_team_id: Annotated[int | None, Field(ge=1, le=MAX_ID)] = None
    note: Annotated[str, Field(max_length=1000, pattern=NO_NUL)] = ""

    @model_validator(mode="after")
    def one_target(self) -> Transfer:
        if (self.to_worker_id is None) == (self.to_team_id is None):
            raise ValueError("kies een collega of een team (één van beide)")
        return self


def _team_names(session: Session) -> dict[int, str]:
    return {team.id: team.name for team in session.scalars(select(Team))}


def _item(
    conversation: Conversation,
    now: dt.datetime,
    session: Session,
    my_teams: frozenset[int] = frozenset(),
    names: dict[int, str] | None = None,
) -> QueueItem:
    handoff = convs.open_handoff(session, conversation)
    team_id = conversation.team_id
    if names is None:
        names = _team_names(session) if team_id is not None else {}
    queued_at = handoff.queued_at if handoff else conversation.updated_at
    if queued_at.tzinfo is None:  # SQLite returns naive UTC
        queued_at = queued_at.replace(tzinfo=dt.timezone.utc)
    return QueueItem(
        conversation_id=conversation.id,
        channel=conversation.channel.value,
        source=conversation.source,
        status=conversation.status.value,
        urgency=handoff.urgency.value if handoff else "normal",
        reason=handoff.reason if handoff else "",
        domains=list(handoff.domains) if handoff else [],
        domain_labels=[DOMAINS.get(d, d) for d in handoff.domains] if handoff else [],
        summary=handoff.summary if handoff else "",
        waiting_seconds=max(0, int((now - queued_at).total_seconds())),
        worker_id=conversation.worker_id,
        team_id=team_id,
        team_name=names.get(team_id) if team_id is not None else None,
        my_team=team_id is None or team_id in my_teams,
        note=handoff.note if handoff else None,
    )


def _team_tabs(session: Session, my_teams: frozenset[int], waiting: list[QueueItem]) -> list[TeamTab]:
    online: dict[int, int] = {}
    for team_id in session.scalars(
        select(TeamMember.team_id)
        .join(Worker, Worker.id == TeamMember.worker_id)
        .where(Worker.presence == Presence.online, Worker.disabled.is_(False))
    ):
        online[team_id] = online.get(team_id, 0) + 1
    waiting_for = {item.team_id for item in waiting}
    tabs = [
        TeamTab(
            id=team.id,
            name=team.name,
            mine=team.id in my_teams,
            waiting=sum(1 for item in waiting if item.team_id == team.id),
            online=online.get(team.id, 0),
            active=team.active,
        )
        for team in session.scalars(select(Team).order_by(Team.name))
        if team.active or team.id in waiting_for
    ]
    return sorted(tabs, key=lambda tab: not tab.mine)


@router.get(
    "/inbox", response_model=Inbox, summary="The queue (crisis, urgent, normal; then waiting time) and my chats"
)
async def inbox(worker: CurrentWorker, desk: Desk) -> Any:
    now = utcnow()
    with desk.sessions.begin() as session:
        access.audit_once(session, "view_queue", worker)
        my_teams = frozenset(teams.team_ids_of(session, worker.id))
        names = _team_names(session)
        waiting = [_item(h.conversation, now, session, my_teams, names) for h in convs.waiting(session, list(my_teams))]
        mine = [
            _item(c, now, session, my_teams, names)
            for c in session.scalars(
                select(Conversation).where(
                    Conversation.worker_id == worker.id, Conversation.status == ConversationStatus.with_worker
                )
            )
        ]
        tabs = _team_tabs(session, my_teams, waiting)
    return Inbox(waiting=waiting, mine=mine, teams=tabs)


def _conversation(session: Session, conversation_id: int) -> Conversation:
    return get_or_404(session, Conversation, conversation_id, GONE)


def _transcript(session: Session, conversation: Conversation, access: str, *, full: bool) -> Transcript:
    handoff = convs.open_handoff(session, conversation)
    team = teams.team_of(session, conversation)
    return Transcript(
        conversation_id=conversation.id,
        status=conversation.status.value,
        channel=conversation.channel.value,
        worker_id=conversation.worker_id,
        summary=handoff.summary if handoff and access != "none" else None,
        team_id=team.id if team else None,
        team_name=team.name if team else None,
        note=handoff.note if handoff and access != "none" else None,
        domains=outcomes.triage_domains(session, conversation) if access != "none" else [],
        access=access,  # type: ignore[arg-type]
        messages=[
            TranscriptMessage(
                id=m.id,
                author=m.author.value,
                text=m.text,
                internal=m.internal,
                attachments=m.attachments,
                at=m.created_at.isoformat(),
            )
            for m in (conversation.messages if full else [])
        ],
    )


@router.get(
    "/inbox/conversations/{conversation_id}",
    response_model=Transcript,
    summary="The transcript of your own conversation; a waiting one's summary; otherwise nothing",
)
async def transcript(conversation_id: ConversationId, worker: CurrentWorker, desk: Desk) -> Any:
    with desk.sessions.begin() as session:
        conversation = _conversation(session, conversation_id)
        if access.is_own(conversation, worker):
            access.audit_once(session, "view", worker, conversation)
            return _transcript(session, conversation, "own", full=True)
        if access.may_read(session, conversation, worker):  # read with a reason a moment ago
            return _transcript(session, conversation, "reason", full=True)
        if conversation.status is ConversationStatus.queued:
            access.audit_once(session, "view_summary", worker, conversation)
            return _transcript(session, conversation, "queue", full=False)
        return _transcript(session, conversation, "none", full=False)


@router.post(
    "/inbox/conversations/{conversation_id}/read",
    response_model=Transcript,
    summary="Read a transcript that is not yours, with a reason (audited)",
)
async def read_with_reason(conversation_id: ConversationId, body: ReadReason, worker: CurrentWorker, desk: Desk) -> Any:
    with desk.sessions.begin() as session:
        conversation = _conversation(session, conversation_id)
        convs.audit(
            session, access.READ_WITH_REASON, worker=worker, conversation=conversation, detail={"reason": body.reason}
        )
        return _transcript(session, conversation, "reason", full=True)


@router.post("/inbox/conversations/{conversation_id}/claim", response_model=QueueItem, summary="Claim (atomic)")
async def claim(conversation_id: ConversationId, worker: CurrentWorker, desk: Desk) -> Any:
    with desk.sessions.begin() as session:
        stored = session.get(Worker, worker.id)
        assert stored is not None
        try:
            handoff = convs.claim(session, conversation_id, stored)
        except convs.ClaimConflict:
            raise HTTPException(409, "Dit gesprek is al opgepakt of wacht niet meer.") from None
        except convs.LimitReached:
            raise HTTPException(409, "Je hebt al het maximale aantal gesprekken tegelijk.") from None
        conversation = handoff.conversation
        convs.record_message(session, conversation, Author.system, CLAIMED.format(name=stored.name))
        item = _item(conversation, utcnow(), session)
        channel, citizen_id = conversation.channel, conversation.citizen_id
    desk.bus.publish(
        {"type": "claimed", "conversation_id": conversation_id, "citizen_id": citizen_id, "worker_id": worker.id}
    )
    desk.wake_outbox(channel)
    return item


@router.post("/inbox/conversations/{conversation_id}/messages", status_code=201, summary="Reply or internal note")
async def reply(conversation_id: ConversationId, body: Reply, worker: CurrentWorker, desk: Desk) -> dict[str, bool]:
    if body.internal:
        with desk.sessions.begin() as session:
            conversation = _conversation(session, conversation_id)
            if not (access.is_own(conversation, worker) and conversation.status is ConversationStatus.with_worker):
                raise HTTPException(409, "Pak het gesprek eerst op; een notitie schrijf je bij je eigen gesprek.")
            stored = session.get(Worker, worker.id)
            key = f"worker:{worker.id}:{body.client_id}" if body.client_id else None
            convs.record_message(
                session, conversation, Author.worker, body.text, worker=stored, internal=True, dedupe_key=key
            )
        return {"delivered": False}
    try:
        channel = replies.worker_reply(
            desk.sessions, desk.bus, conversation_id, worker.id, body.text, client_id=body.client_id
        )
    except LookupError:
        raise HTTPException(404, GONE) from None
    except convs.IllegalTransition:
        raise HTTPException(409, "Claim het gesprek eerst; het is niet aan jou toegewezen.") from None
    desk.wake_outbox(channel)
    return {"delivered": True}


@router.post("/inbox/conversations/{conversation_id}/hand-back", status_code=204, summary="Back to the assistant")
async def hand_back(conversation_id: ConversationId, worker: CurrentWorker, desk: Desk) -> None:
    try:
        channel = await replies.hand_back(desk.sessions, desk.bus, desk.assistant, conversation_id, worker.id)
    except LookupError:
        raise HTTPException(404, GONE) from None
    except convs.IllegalTransition:
        raise HTTPException(409, "Alleen een gesprek dat bij jou ligt kun je teruggeven.") from None
    desk.wake_outbox(channel)


@router.post(
    "/inbox/conversations/{conversation_id}/transfer",
    status_code=204,
    summary="Transfer your conversation to a colleague or to a team's queue, with a note (audited)",
)
async def transfer(conversation_id: ConversationId, body: Transfer, worker: CurrentWorker, desk: Desk) -> None:
    """Only the worker who has the conversation transfers it (as closing needs the claim). The
    note is stored as an internal note and with the handoff, so the receiving side reads it
    with the summary; the citizen hears who answers now (for a team: when, by its hours)."""
    to_team = body.to_team_id is not None
    with desk.sessions.begin() as session:
        conversation = _conversation(session, conversation_id)
        source = session.get(Worker, worker.id)
        assert source is not None
        if not (access.is_own(conversation, worker) and conversation.status is ConversationStatus.with_worker):
            raise HTTPException(409, "Alleen een gesprek dat bij jou ligt kun je overdragen. Pak het eerst op.")
        note = body.note.strip()
        if body.to_team_id is not None:
            team = session.get(Team, body.to_team_id)
            if team is None or not team.active:
                raise HTTPException(404, "Dit team bestaat niet of is niet actief.")
            try:
                convs.transfer_to_team(session, conversation, source, team, note)
            except convs.IllegalTransition:
                raise HTTPException(409, "Alleen een gesprek dat bij jou ligt kun je overdragen.") from None
            label, told = f"team {team.name}", TO_TEAM.format(team=team.name)
            wait = queue_info.describe(session, conversation.id, desk.hours.current, utcnow())
            if wait:
                told = f"{told} {wait.removeprefix(f'Je vraag ligt bij {team.name}. ')}"
        else:
            target = session.get(Worker, body.to_worker_id)
            if target is None or target.disabled:
                raise HTTPException(404, "Deze collega bestaat niet of is niet actief.")
            if target.id == source.id:
                raise HTTPException(409, "Dit gesprek ligt al bij jou. Kies een collega.")
            try:
                convs.transfer(session, conversation, source, target, note)
            except convs.IllegalTransition:
                raise HTTPException(409, "Alleen een gesprek dat bij jou ligt kun je overdragen.") from None
            except convs.LimitReached:
                raise HTTPException(409, "Je collega heeft al het maximale aantal gesprekken.") from None
            label, told = target.name, TO_COLLEAGUE.format(name=target.name)
        text = f"Overgedragen aan {label}." + (f" Notitie: {note}" if note else "")
        convs.record_message(session, conversation, Author.worker, text, worker=source, internal=True)
        convs.record_message(session, conversation, Author.system, told)
        channel, citizen_id = conversation.channel, conversation.citizen_id
    event: dict[str, Any] = {"type": "transferred", "conversation_id": conversation_id, "citizen_id": citizen_id}
    if to_team:
        event["team_id"] = body.to_team_id
    else:
        event["worker_id"] = body.to_worker_id
    desk.bus.publish(event)
    if to_team:
        desk.bus.publish({"type": "queued", "conversation_id": conversation_id, "citizen_id": citizen_id})
    desk.wake_outbox(channel)


@router.post("/inbox/conversations/{conversation_id}/close", status_code=204, summary="Close with an outcome")
async def close(conversation_id: ConversationId, body: Close, worker: CurrentWorker, desk: Desk) -> None:
    with desk.sessions.begin() as session:
        conversation = _conversation(session, conversation_id)
        mine = access.is_own(conversation, worker) and conversation.status is ConversationStatus.with_worker
        if not mine and conversation.status is not ConversationStatus.closed:
            if worker.role is not Role.admin or not body.reason:
                raise HTTPException(
                    409, "Pak het gesprek eerst op. Alleen een beheerder sluit andermans gesprek, met een reden."
                )
            convs.audit(
                session, "close_with_reason", worker=worker, conversation=conversation, detail={"reason": body.reason}
            )
        was_with_worker = conversation.status is ConversationStatus.with_worker
        if body.domain_outcomes and conversation.status is not ConversationStatus.closed:
            results = [
                outcomes.DomainClose(o.domain, DomainResult(o.result), o.referral or None) for o in body.domain_outcomes
            ]
            try:
                outcomes.record(session, conversation, results)
            except outcomes.OutcomeError as error:
                raise HTTPException(422, str(error)) from None
        try:
            convs.close(session, conversation, session.get(Worker, worker.id), Outcome(body.outcome), body.case_note)
        except convs.IllegalTransition:
            raise HTTPException(409, "Dit gesprek is al gesloten.") from None
        if was_with_worker:
            convs.record_message(session, conversation, Author.system, CLOSED)
        channel, citizen_id = conversation.channel, conversation.citizen_id
    desk.bus.publish({"type": "closed", "conversation_id": conversation_id, "citizen_id": citizen_id})
    if was_with_worker:
        desk.wake_outbox(channel)


SUMMARY_OFFER = {
    "widget": (
        "Wil je een korte samenvatting van dit gesprek bewaren? Die kun je meenemen naar een afspraak. "
        "Dan hoef je je verhaal daar niet opnieuw te vertellen. Kies dan bovenaan de chat 'Samenvatting'."
    ),
    "telegram": (
        "Wil je een korte samenvatting van dit gesprek bewaren? Die kun je meenemen naar een afspraak. "
        "Dan hoef je je verhaal daar niet opnieuw te vertellen. Stuur dan /samenvatting."
    ),
}


@router.post(
    "/inbox/conversations/{conversation_id}/offer-summary",
    status_code=204,
    summary="Offer the citizen a summary to keep (warm referral); they say yes themselves",
)
async def offer_summary(conversation_id: ConversationId, worker: CurrentWorker, desk: Desk) -> None:
    """The citizen hears how to ask for it; nothing is made until they do (handoff/store/referral_note.py)."""
    with desk.sessions.begin() as session:
        conversation = _conversation(session, conversation_id)
        if not (access.is_own(conversation, worker) and conversation.status is ConversationStatus.with_worker):
            raise HTTPException(409, "Alleen in een gesprek dat bij jou ligt kun je een samenvatting aanbieden.")
        convs.record_message(session, conversation, Author.system, SUMMARY_OFFER[conversation.channel.value])
        convs.audit(session, "offer_summary", worker=worker, conversation=conversation)
        channel, citizen_id = conversation.channel, conversation.citizen_id
    desk.bus.publish(
        {"type": "message", "conversation_id": conversation_id, "citizen_id": citizen_id, "author": "system"}
    )
    desk.wake_outbox(channel)


class ReferralOption(BaseModel):
    key: str
    name: str
    kind: Literal["formal", "informal"]
    group: bool
    example: bool
    domains: list[str]


@router.get(
    "/inbox/referral-options",
    response_model=list[ReferralOption],
    summary="Where a worker can refer to, formal and informal (data/knowledge/informal_help.yml)",
)
async def referral_options(worker: CurrentWorker) -> Any:
    return [
        ReferralOption(key=o.key, name=o.name, kind=o.kind, group=o.group, example=o.example, domains=list(o.domains))
        for o in help_offers.offers()
    ]


class Colleague(BaseModel):
    id: int
    name: str
    presence: str
    active_chats: int
    max_concurrent: int


@router.get("/inbox/workers", response_model=list[Colleague], summary="Colleagues (for transfer)")
async def workers(worker: CurrentWorker, desk: Desk) -> Any:
    with desk.sessions() as session:
        return [
            Colleague(
                id=w.id,
                name=w.name,
                presence=w.presence.value,
                active_chats=convs.active_chats(session, w),
                max_concurrent=w.max_concurrent,
            )
            for w in session.scalars(select(Worker).where(Worker.disabled.is_(False)).order_by(Worker.name))
        ]


class CannedReply(BaseModel):
    title: str
    text: str


@router.get("/inbox/canned-replies", response_model=list[CannedReply], summary="Standard replies")
async def canned_replies(worker: CurrentWorker) -> Any:
    return [CannedReply(**item) for item in load_canned_replies()]


def load_canned_replies() -> list[dict[str, str]]:
    """The replies in data/canned_replies.yml, with the crisis numbers first (one source)."""
    raw = yaml.safe_load((data_dir() / "canned_replies.yml").read_text(encoding="utf-8"))
    crisis = {"title": "Crisisnummers", "text": f"{OPENING}\n{CRISIS_NUMBERS}"}
    return [crisis] + [{"title": str(r["title"]), "text": str(r["text"]).strip()} for r in raw["replies"]]


@router.get(
    "/inbox/stream",
    response_class=StreamingResponse,
    summary="Live: queue changes, new messages, claims, crisis alerts (server-sent events)",
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def stream(worker: CurrentWorker, desk: Desk, request: Request) -> StreamingResponse:
    """Every bus event as `event: <type>` with a small JSON body (ids only; the page fetches
    what it shows through the API, so nothing sensitive travels twice)."""

    async def render(event: dict[str, Any] | None) -> list[str]:
        if event is None:
            return [sse.event("hello", {"worker_id": worker.id})]
        public = {
            k: v
            for k, v in event.items()
            if k in ("type", "conversation_id", "urgency", "author", "worker_id", "team_id")
        }
        return [sse.event(str(event.get("type", "update")), public)]

    token = auth.read(desk.secret_key, request.cookies.get(auth.COOKIE))
    nonce = token.nonce if token else ""

    def session_valid() -> bool:
        with desk.sessions() as session:
            return worker_sessions.check(session, nonce) in ("ok", "touch")

    async def alive() -> bool:
        return await asyncio.to_thread(session_valid)

    def wanted(event: dict[str, Any]) -> bool:
        return event.get("type") != "session_revoked"  # the stream itself looks at those

    limits = desk.limits
    slot = (lambda: limits.streams.hold((f"worker:{worker.id}", limits.streams.per_worker))) if limits else None
    return sse.stream(request, desk.bus, render, wanted, alive, slot)
