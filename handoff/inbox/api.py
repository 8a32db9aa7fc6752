"""The worker inbox's JSON API: login, queue, claim, transcript, reply, notes, hand back,
transfer, close. Every view, claim, transfer and close goes to the audit log."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

import yaml
from fastapi import APIRouter, Depends, HTTPException, Path, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from baken_core.crisis import CRISIS_NUMBERS, OPENING
from baken_core.paths import data_dir
from baken_core.zrm import DOMAINS
from bot.routing import Outgoing, Router
from handoff import auth, sse
from handoff.store import conversations as convs
from handoff.store.db import MAX_ID
from handoff.store.models import Author, Channel, Conversation, ConversationStatus, Outcome, Presence, Worker, utcnow

router = APIRouter(prefix="/api", tags=["inbox"])

CLAIMED = (
    "{name} (medewerker) neemt het gesprek nu over. Je hoeft je verhaal niet opnieuw te vertellen: "
    "{name} leest wat je al schreef."
)
CLOSED = "De medewerker heeft het gesprek afgesloten. Je kunt altijd een nieuw gesprek beginnen door iets te typen."


# No NUL characters: PostgreSQL text cannot hold them (a 422, not a database error).
NO_NUL = r"^[^\x00]*$"
ConversationId = Annotated[int, Path(ge=1, le=MAX_ID)]


class Login(BaseModel):
    name: Annotated[str, Field(min_length=1, max_length=64, pattern=NO_NUL)]
    password: Annotated[str, Field(min_length=1, max_length=256)]


class WorkerOut(BaseModel):
    id: int
    name: str
    role: str
    presence: str


class LoginResult(BaseModel):
    worker: WorkerOut
    csrf_token: str


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


class Inbox(BaseModel):
    waiting: list[QueueItem]
    mine: list[QueueItem]


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


class Reply(BaseModel):
    text: Annotated[str, Field(min_length=1, max_length=4000, pattern=NO_NUL)]
    internal: bool = False
    client_id: Annotated[str | None, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")] = None
    """The page's id for this draft: the same id again (a double click, a retry) stores nothing new."""


class Close(BaseModel):
    outcome: Literal["resolved", "referred", "no_response"]
    case_note: Annotated[str, Field(max_length=2000, pattern=NO_NUL)] = ""


class Transfer(BaseModel):
    to_worker_id: Annotated[int, Field(ge=1, le=MAX_ID)]


class PresenceIn(BaseModel):
    presence: Literal["online", "away"]


def _router(request: Request) -> Router:
    desk_router: Router = request.app.state.router
    return desk_router


def _key(request: Request) -> bytes:
    key: bytes = request.app.state.secret_key
    return key


def current_worker(request: Request) -> Worker:
    token = auth.read(_key(request), request.cookies.get(auth.COOKIE))
    if token is None:
        raise HTTPException(401, "Log eerst in.")
    if request.method not in ("GET", "HEAD") and not auth.csrf_ok(
        _key(request), token, request.headers.get(auth.CSRF_HEADER)
    ):
        raise HTTPException(403, "De beveiligingscode (CSRF) ontbreekt of klopt niet. Laad de pagina opnieuw.")
    with _router(request).sessions() as session:
        worker = session.get(Worker, token.worker_id)
        if worker is None or worker.disabled:
            raise HTTPException(401, "Dit account is niet (meer) actief.")
        session.expunge(worker)
        return worker


CurrentWorker = Annotated[Worker, Depends(current_worker)]


def _worker_out(worker: Worker) -> WorkerOut:
    return WorkerOut(id=worker.id, name=worker.name, role=worker.role.value, presence=worker.presence.value)


@router.post("/auth/login", response_model=LoginResult, summary="Log in as a worker or admin")
async def login(body: Login, request: Request, response: Response) -> Any:
    with _router(request).sessions.begin() as session:
        try:
            worker = auth.authenticate(session, body.name, body.password)
        except auth.AuthError as exc:
            raise HTTPException(401, str(exc)) from None
        worker.presence = Presence.online
        convs.audit(session, "login", worker=worker)
        out = _worker_out(worker)
    cookie, csrf = auth.issue(_key(request), out.id)
    response.set_cookie(
        auth.COOKIE,
        cookie,
        max_age=auth.SESSION_SECONDS,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )
    return LoginResult(worker=out, csrf_token=csrf)


@router.get("/auth/me", response_model=LoginResult, summary="Who is logged in (and the CSRF token, after a reload)")
async def me(worker: CurrentWorker, request: Request) -> Any:
    token = auth.read(_key(request), request.cookies.get(auth.COOKIE))
    assert token is not None  # current_worker checked it
    return LoginResult(worker=_worker_out(worker), csrf_token=auth.csrf_for(_key(request), token))


@router.post("/auth/logout", status_code=204, summary="Log out")
async def logout(worker: CurrentWorker, request: Request, response: Response) -> None:
    with _router(request).sessions.begin() as session:
        stored = session.get(Worker, worker.id)
        if stored is not None:
            stored.presence = Presence.away
    response.delete_cookie(auth.COOKIE, path="/")


@router.post("/inbox/presence", response_model=WorkerOut, summary="Set presence (online/away)")
async def presence(body: PresenceIn, worker: CurrentWorker, request: Request) -> Any:
    with _router(request).sessions.begin() as session:
        stored = session.get(Worker, worker.id)
        assert stored is not None
        stored.presence = Presence(body.presence)
        return _worker_out(stored)


def _item(conversation: Conversation, now: dt.datetime, session: Session) -> QueueItem:
    handoff = convs.open_handoff(session, conversation)
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
    )


@router.get(
    "/inbox", response_model=Inbox, summary="The queue (crisis, urgent, normal; then waiting time) and my chats"
)
async def inbox(worker: CurrentWorker, request: Request) -> Any:
    now = utcnow()
    with _router(request).sessions() as session:
        waiting = [_item(h.conversation, now, session) for h in convs.waiting(session)]
        mine = [
            _item(c, now, session)
            for c in session.scalars(
                select(Conversation).where(
                    Conversation.worker_id == worker.id, Conversation.status == ConversationStatus.with_worker
                )
            )
        ]
    return Inbox(waiting=waiting, mine=mine)


def _conversation(session: Session, conversation_id: int) -> Conversation:
    conversation = session.get(Conversation, conversation_id)
    if conversation is None:
        raise HTTPException(404, "Dit gesprek bestaat niet.")
    return conversation


@router.get("/inbox/conversations/{conversation_id}", response_model=Transcript, summary="The whole transcript")
async def transcript(conversation_id: ConversationId, worker: CurrentWorker, request: Request) -> Any:
    with _router(request).sessions.begin() as session:
        conversation = _conversation(session, conversation_id)
        convs.audit(session, "view", worker=worker, conversation=conversation)
        handoff = convs.open_handoff(session, conversation)
        return Transcript(
            conversation_id=conversation.id,
            status=conversation.status.value,
            channel=conversation.channel.value,
            worker_id=conversation.worker_id,
            summary=handoff.summary if handoff else None,
            messages=[
                TranscriptMessage(
                    id=m.id,
                    author=m.author.value,
                    text=m.text,
                    internal=m.internal,
                    attachments=m.attachments,
                    at=m.created_at.isoformat(),
                )
                for m in conversation.messages
            ],
        )


@router.post("/inbox/conversations/{conversation_id}/claim", response_model=QueueItem, summary="Claim (atomic)")
async def claim(conversation_id: ConversationId, worker: CurrentWorker, request: Request) -> Any:
    with _router(request).sessions.begin() as session:
        stored = session.get(Worker, worker.id)
        assert stored is not None
        try:
            handoff = convs.claim(session, conversation_id, stored)
        except convs.ClaimConflict:
            raise HTTPException(409, "Dit gesprek is al opgepakt of wacht niet meer.") from None
        except convs.LimitReached:
            raise HTTPException(409, "Je hebt al het maximale aantal gesprekken tegelijk.") from None
        conversation = handoff.conversation
        greeting = Outgoing(CLAIMED.format(name=stored.name), author=Author.system)
        convs.record_message(session, conversation, Author.system, greeting.text)
        item = _item(conversation, utcnow(), session)
        target = (conversation.channel, conversation.citizen.external_id, conversation.citizen_id)
    request.app.state.bus.publish(
        {"type": "claimed", "conversation_id": conversation_id, "citizen_id": target[2], "worker_id": worker.id}
    )
    await deliver(request, target[0], target[1], greeting)
    return item


async def deliver(request: Request, channel: Channel, external_id: str, outgoing: Outgoing) -> None:
    """The message is stored with its delivery state: the widget reads its history, and the
    Telegram outbox sends what is pending (with retries). This only wakes the outbox."""
    telegram = getattr(request.app.state, "telegram", None)
    if channel is Channel.telegram and telegram is not None and telegram.outbox is not None:
        telegram.outbox.kick()


@router.post("/inbox/conversations/{conversation_id}/messages", status_code=201, summary="Reply or internal note")
async def reply(
    conversation_id: ConversationId, body: Reply, worker: CurrentWorker, request: Request
) -> dict[str, bool]:
    desk_router = _router(request)
    if body.internal:
        with desk_router.sessions.begin() as session:
            conversation = _conversation(session, conversation_id)
            stored = session.get(Worker, worker.id)
            key = f"worker:{worker.id}:{body.client_id}" if body.client_id else None
            convs.record_message(
                session, conversation, Author.worker, body.text, worker=stored, internal=True, dedupe_key=key
            )
        return {"delivered": False}
    try:
        channel, external_id, outgoing = desk_router.worker_reply(
            conversation_id, worker.id, body.text, client_id=body.client_id
        )
    except LookupError:
        raise HTTPException(404, "Dit gesprek bestaat niet.") from None
    except convs.IllegalTransition:
        raise HTTPException(409, "Claim het gesprek eerst; het is niet aan jou toegewezen.") from None
    await deliver(request, channel, external_id, outgoing)
    return {"delivered": True}


@router.post("/inbox/conversations/{conversation_id}/hand-back", status_code=204, summary="Back to the assistant")
async def hand_back(conversation_id: ConversationId, worker: CurrentWorker, request: Request) -> None:
    try:
        channel, external_id, note = await _router(request).hand_back(conversation_id, worker.id)
    except LookupError:
        raise HTTPException(404, "Dit gesprek bestaat niet.") from None
    except convs.IllegalTransition:
        raise HTTPException(409, "Alleen een gesprek dat bij jou ligt kun je teruggeven.") from None
    await deliver(request, channel, external_id, note)


@router.post("/inbox/conversations/{conversation_id}/transfer", status_code=204, summary="Transfer to a colleague")
async def transfer(conversation_id: ConversationId, body: Transfer, worker: CurrentWorker, request: Request) -> None:
    with _router(request).sessions.begin() as session:
        conversation = _conversation(session, conversation_id)
        source, target = session.get(Worker, worker.id), session.get(Worker, body.to_worker_id)
        if source is None or target is None or target.disabled:
            raise HTTPException(404, "Deze collega bestaat niet of is niet actief.")
        try:
            convs.transfer(session, conversation, source, target)
        except convs.IllegalTransition:
            raise HTTPException(409, "Alleen een gesprek dat bij jou ligt kun je overdragen.") from None
        except convs.LimitReached:
            raise HTTPException(409, "Je collega heeft al het maximale aantal gesprekken.") from None
    request.app.state.bus.publish({"type": "transferred", "conversation_id": conversation_id, "to": body.to_worker_id})


@router.post("/inbox/conversations/{conversation_id}/close", status_code=204, summary="Close with an outcome")
async def close(conversation_id: ConversationId, body: Close, worker: CurrentWorker, request: Request) -> None:
    with _router(request).sessions.begin() as session:
        conversation = _conversation(session, conversation_id)
        if conversation.status is ConversationStatus.with_worker and conversation.worker_id != worker.id:
            raise HTTPException(409, "Dit gesprek ligt bij een collega.")
        was_with_worker = conversation.status is ConversationStatus.with_worker
        try:
            convs.close(session, conversation, session.get(Worker, worker.id), Outcome(body.outcome), body.case_note)
        except convs.IllegalTransition:
            raise HTTPException(409, "Dit gesprek is al gesloten.") from None
        goodbye = Outgoing(CLOSED, author=Author.system)
        if was_with_worker:
            convs.record_message(session, conversation, Author.system, goodbye.text)
        target = (conversation.channel, conversation.citizen.external_id, conversation.citizen_id)
    request.app.state.bus.publish({"type": "closed", "conversation_id": conversation_id, "citizen_id": target[2]})
    if was_with_worker:
        await deliver(request, target[0], target[1], goodbye)


class Colleague(BaseModel):
    id: int
    name: str
    presence: str
    active_chats: int
    max_concurrent: int


@router.get("/inbox/workers", response_model=list[Colleague], summary="Colleagues (for transfer)")
async def workers(worker: CurrentWorker, request: Request) -> Any:
    with _router(request).sessions() as session:
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
async def stream(worker: CurrentWorker, request: Request) -> StreamingResponse:
    """Every bus event as `event: <type>` with a small JSON body (ids only; the page fetches
    what it shows through the API, so nothing sensitive travels twice)."""

    async def render(event: dict[str, Any] | None) -> list[str]:
        if event is None:
            return [sse.event("hello", {"worker_id": worker.id})]
        public = {k: v for k, v in event.items() if k in ("type", "conversation_id", "urgency", "author", "worker_id")}
        return [sse.event(str(event.get("type", "update")), public)]

    return sse.stream(request, request.app.state.bus, render, lambda _event: True)
