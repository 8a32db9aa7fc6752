"""The web widget's JSON API: send a message, read the history (resume after a reload),
and a live stream of new messages and queue status (server-sent events).

The visitor id opens the conversation, so it never goes in a URL: it travels in the JSON
body (send, erase) or the `X-Baken-Visitor` header (history, stream ticket); the stream is
opened with a short-lived ticket (bot/widget_tickets.py). It opens the current
conversation only, not the earlier ones of the same browser."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, HTTPException, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import widget_tickets
from bot.routing import Dispatcher, Inbound, TooFast
from handoff import sse
from handoff.rate_limits import per_ip_key
from handoff.store import conversations as convs
from handoff.store import queue_info, referral_note
from handoff.store.db import MAX_ID
from handoff.store.models import Author, Channel, Citizen, Conversation, ConversationStatus, Message

VISITOR_PATTERN = r"^[A-Za-z0-9_-]+$"
VisitorId = Annotated[str, Field(min_length=16, max_length=64, pattern=VISITOR_PATTERN)]
VisitorHeader = Annotated[
    str,
    Header(
        alias="X-Baken-Visitor",
        min_length=16,
        max_length=64,
        pattern=VISITOR_PATTERN,
        description="The widget's visitor id: in a header, never in a URL (it opens the conversation)",
    ),
]

router = APIRouter(prefix="/api/widget", tags=["widget"])


class SendMessage(BaseModel):
    visitor_id: VisitorId
    client_message_id: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
    text: Annotated[str, Field(max_length=10_000)] = ""
    source: Annotated[str | None, Field(max_length=64, pattern=r"^[A-Za-z0-9_.-]*$")] = None


class Button(BaseModel):
    title: str
    payload: str


class ChatMessage(BaseModel):
    id: int
    author: str
    text: str
    buttons: list[Button] | None = None
    client_message_id: str | None = None
    """For the citizen's own messages: the id the widget sent it with (to replace its draft)."""


class SendResult(BaseModel):
    duplicate: bool
    status: str
    queue_text: str | None = None
    messages: list[ChatMessage]


class History(BaseModel):
    status: str | None
    queue_text: str | None = None
    messages: list[ChatMessage]


class Status(BaseModel):
    """Where the conversation stands: with the assistant, waiting (and where), with a worker."""

    status: str | None
    queue_position: int | None = None
    queue_text: str | None = None


def _dispatcher(request: Request) -> Dispatcher:
    dispatcher: Dispatcher = request.app.state.dispatcher
    return dispatcher


def _latest(session: Session, citizen_id: int) -> Conversation | None:
    return session.scalar(
        select(Conversation).where(Conversation.citizen_id == citizen_id).order_by(Conversation.id.desc()).limit(1)
    )


def _status(session: Session, conversation: Conversation | None, desk: Dispatcher) -> Status:
    if conversation is None:
        return Status(status=None)
    if conversation.status is not ConversationStatus.queued:
        return Status(status=conversation.status.value)
    return Status(
        status=conversation.status.value,
        queue_position=queue_info.position(session, conversation.id),
        queue_text=queue_info.describe(session, conversation.id, desk.hours, desk.clock()),
    )


def _rows_after(session: Session, latest: Conversation | None, after: int) -> list[ChatMessage]:
    """The current conversation's messages after `after`: the visitor id opens that one only
    (`latest`, from `_latest`), not every earlier conversation of this browser."""
    if latest is None:
        return []
    rows = session.scalars(
        select(Message)
        .where(Message.conversation_id == latest.id, Message.id > after, Message.internal.is_(False))
        .order_by(Message.id)
    ).all()
    return [_chat_message(m) for m in rows]


def _messages_after(
    request: Request, visitor_id: str, after: int, citizen_id: int | None = None
) -> tuple[Status, list[ChatMessage]]:
    """`citizen_id`: the visitor's citizen, when the caller knows it already (not looked up again)."""
    desk = _dispatcher(request)
    with desk.sessions() as session:
        if citizen_id is None:
            citizen = convs.find_citizen(session, Channel.widget, visitor_id)
            if citizen is None:
                return Status(status=None), []
            citizen_id = citizen.id
        latest = _latest(session, citizen_id)
        return _status(session, latest, desk), _rows_after(session, latest, after)


def _chat_message(message: Message) -> ChatMessage:
    buttons = [Button(**b) for b in message.buttons] if message.buttons else None
    author = "citizen" if message.author is Author.citizen else message.author.value
    key = message.dedupe_key or ""
    client_id = key.rsplit(":", 1)[-1] if key.startswith("widget:") else None
    return ChatMessage(id=message.id, author=author, text=message.text, buttons=buttons, client_message_id=client_id)


TOO_FAST_RESPONSE: dict[int | str, dict[str, Any]] = {
    429: {"description": "Too many messages from this citizen or address; nothing was stored"}
}


@router.post("/messages", response_model=SendResult, summary="Send a citizen message", responses=TOO_FAST_RESPONSE)
async def send_message(body: SendMessage, request: Request) -> Any:
    """Stores the message, routes it, and returns every message after the citizen's own.

    Resending the same `client_message_id` (after a network drop) is recognised: the message
    is not processed twice, and the answer is the history after it.
    """
    try:
        result = await _dispatcher(request).inbound(
            Inbound(
                Channel.widget,
                body.visitor_id,
                body.text,
                dedupe_key=f"widget:{body.visitor_id}:{body.client_message_id}",
                source=body.source,
                ip=request.client.host if request.client else None,
            )
        )
    except TooFast as too_fast:  # nothing stored: the widget keeps the message and sends it again later
        raise HTTPException(
            429, too_fast.refused.text, headers={"Retry-After": str(too_fast.refused.retry_after_s)}
        ) from None
    status, messages = _messages_after(request, body.visitor_id, (result.message_id or 0) - 1, result.citizen_id)
    return SendResult(
        duplicate=result.duplicate,
        status=status.status or result.status.value,
        queue_text=status.queue_text or result.queue_text,
        messages=messages,
    )


@router.get("/messages", response_model=History, summary="Conversation history after a message id")
async def history(
    request: Request,
    visitor_id: VisitorHeader,
    after: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
) -> Any:
    status, messages = _messages_after(request, visitor_id, after)
    if status.status is None and after == 0:
        return History(status=None, messages=[])
    if status.status is None:
        raise HTTPException(404, "Dit gesprek is niet gevonden.")
    return History(status=status.status, queue_text=status.queue_text, messages=messages)


class EraseRequest(BaseModel):
    visitor_id: VisitorId


class EraseResult(BaseModel):
    erased: bool
    """False: nothing was stored for this visitor (also not an error)."""
    text: str


ERASED_TEXT = (
    "Je gesprekken zijn gewist: je berichten, bestanden en wat de assistent onthield. "
    "Een medewerker kan ze niet meer lezen. Je kunt altijd een nieuw gesprek beginnen."
)
NOTHING_TEXT = "Er was niets van je bewaard. Je kunt altijd een nieuw gesprek beginnen."


@router.post("/erase", response_model=EraseResult, summary="Erase everything of this visitor (AVG art. 17)")
async def erase(body: EraseRequest, request: Request) -> Any:
    """Deletes the visitor's conversations, messages, files, NLU inbox items and Rasa
    tracker on the server; an open handoff ends and the worker is told. The widget then
    forgets the visitor id and starts with a new one."""
    erased = await _dispatcher(request).erase(Channel.widget, body.visitor_id)
    return EraseResult(erased=erased is not None, text=ERASED_TEXT if erased else NOTHING_TEXT)


class StreamTicket(BaseModel):
    ticket: str
    expires_in: int


@router.post("/stream-ticket", response_model=StreamTicket, summary="A short-lived ticket for the live stream")
async def stream_ticket(request: Request, visitor_id: VisitorHeader) -> Any:
    """EventSource cannot send the visitor header: this ticket opens `/stream` once, within
    a minute (bot/widget_tickets.py). 404 while nothing is stored for the visitor."""
    desk = _dispatcher(request)
    with desk.sessions() as session:
        citizen = convs.find_citizen(session, Channel.widget, visitor_id)
        if citizen is None:
            raise HTTPException(404, "Er is nog geen gesprek.")
        citizen_id = citizen.id
    key: bytes = request.app.state.desk.secret_key
    return StreamTicket(ticket=widget_tickets.issue(key, citizen_id), expires_in=widget_tickets.TICKET_S)


QUEUE_EVENTS = frozenset({"queued", "claimed", "closed", "handed_back", "transferred"})


@router.get(
    "/stream",
    response_class=StreamingResponse,
    summary="Live: new messages and queue status (server-sent events)",
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def stream(
    request: Request,
    ticket: Annotated[str, Query(min_length=5, max_length=120, pattern=r"^[0-9]+\.[0-9]+\.[A-Za-z0-9_-]+$")],
    after: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
) -> StreamingResponse:
    """`event: message` (id = message id) for every message after `after` or the browser's
    `Last-Event-ID`, then as they come; `event: status` whenever the status or the queue
    position changes. Reconnecting never loses or repeats a message. Opened with a ticket
    from `/stream-ticket` (401 once it expired: the widget gets a new one)."""
    desk = _dispatcher(request)
    citizen_id = widget_tickets.read(request.app.state.desk.secret_key, ticket)
    if citizen_id is None:
        raise HTTPException(401, "Deze verbinding is verlopen. De chat maakt vanzelf een nieuwe.")
    sessions = desk.sessions
    cursor = sse.last_event_id(request, after)
    seen: dict[str, Any] = {"citizen_id": None, "status": None, "sent_status": None}

    async def render(_event: dict[str, Any] | None) -> list[str]:
        nonlocal cursor
        chunks: list[str] = []
        with sessions() as session:
            citizen = session.get(Citizen, citizen_id)
            if citizen is None or citizen.channel is not Channel.widget:
                return chunks  # erased meanwhile
            seen["citizen_id"] = citizen.id
            latest = _latest(session, citizen.id)
            for message in _rows_after(session, latest, cursor):
                chunks.append(sse.event("message", message.model_dump(), message.id))
                cursor = message.id
            status = _status(session, latest, desk)
        seen["status"] = status.status
        if status.model_dump() != seen["sent_status"]:
            seen["sent_status"] = status.model_dump()
            chunks.append(sse.event("status", status.model_dump()))
        return chunks

    def wants(event: dict[str, Any]) -> bool:
        if event.get("type") == "resync":  # the bus missed events (handoff/store/pg_events.py)
            return True
        if seen["citizen_id"] is None:
            return event.get("type") == "message"
        if event.get("citizen_id") == seen["citizen_id"]:
            return True
        return seen["status"] == ConversationStatus.queued.value and event.get("type") in QUEUE_EVENTS

    limits = _dispatcher(request).limits
    if limits is None:
        return sse.stream(request, _dispatcher(request).bus, render, wants)
    keys = [(f"visitor:{citizen_id}", limits.streams.per_visitor)]
    ip = per_ip_key(request.client.host if request.client else None)
    if ip is not None:
        keys.append((f"ip:{ip}", limits.streams.per_ip))
    return sse.stream(request, _dispatcher(request).bus, render, wants, slot=lambda: limits.streams.hold(*keys))


class SummaryRequest(BaseModel):
    visitor_id: VisitorId
    consent: bool = False
    """The citizen said yes to "Wil je een samenvatting bewaren?" (nothing is made without it)."""


class SummaryNote(BaseModel):
    text: str
    filename: str


@router.post("/summary", response_model=SummaryNote, summary="A plain-text summary the citizen keeps (with consent)")
async def summary(body: SummaryRequest, request: Request) -> Any:
    """The warm referral note of the visitor's latest conversation (handoff/store/referral_note.py):
    only after the citizen's yes; built now, not stored; the audit log notes that one was made."""
    if not body.consent:
        raise HTTPException(422, referral_note.CONSENT_NEEDED)
    with _dispatcher(request).sessions.begin() as session:
        citizen = convs.find_citizen(session, Channel.widget, body.visitor_id)
        conversation = referral_note.latest_conversation(session, citizen.id) if citizen else None
        if conversation is None:
            raise HTTPException(404, "Er is nog geen gesprek om samen te vatten.")
        convs.audit(session, "referral_note", conversation=conversation, detail={"channel": "widget"})
        return SummaryNote(text=referral_note.note(session, conversation), filename=referral_note.FILENAME)
