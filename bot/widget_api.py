"""The web widget's JSON API: send a message, read the history (resume after a reload)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy import select

from bot.routing import Inbound, Router
from handoff import conversations as convs
from handoff.models import Author, Channel, Conversation, Message

VisitorId = Annotated[str, Field(min_length=16, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]

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


class SendResult(BaseModel):
    duplicate: bool
    status: str
    queue_text: str | None = None
    messages: list[ChatMessage]


class History(BaseModel):
    status: str | None
    messages: list[ChatMessage]


def _router(request: Request) -> Router:
    router_: Router = request.app.state.router
    return router_


def _messages_after(request: Request, visitor_id: str, after: int) -> tuple[str | None, list[ChatMessage]]:
    sessions = _router(request).sessions
    with sessions() as session:
        citizen = convs.find_citizen(session, Channel.widget, visitor_id)
        if citizen is None:
            return None, []
        conversation = session.scalar(
            select(Conversation).where(Conversation.citizen_id == citizen.id).order_by(Conversation.id.desc()).limit(1)
        )
        rows = session.scalars(
            select(Message)
            .join(Conversation, Conversation.id == Message.conversation_id)
            .where(Conversation.citizen_id == citizen.id, Message.id > after, Message.internal.is_(False))
            .order_by(Message.id)
        ).all()
        status = conversation.status.value if conversation else None
        return status, [_chat_message(m) for m in rows]


def _chat_message(message: Message) -> ChatMessage:
    buttons = [Button(**b) for b in message.buttons] if message.buttons else None
    author = "citizen" if message.author is Author.citizen else message.author.value
    return ChatMessage(id=message.id, author=author, text=message.text, buttons=buttons)


@router.post("/messages", response_model=SendResult, summary="Send a citizen message")
async def send_message(body: SendMessage, request: Request) -> Any:
    """Stores the message, routes it, and returns every message after the citizen's own.

    Resending the same `client_message_id` (after a network drop) is recognised: the message
    is not processed twice, and the answer is the history after it.
    """
    result = await _router(request).inbound(
        Inbound(
            Channel.widget,
            body.visitor_id,
            body.text,
            dedupe_key=f"widget:{body.visitor_id}:{body.client_message_id}",
            source=body.source,
        )
    )
    sessions = _router(request).sessions
    with sessions() as session:
        own = session.scalar(
            select(Message.id).where(Message.dedupe_key == f"widget:{body.visitor_id}:{body.client_message_id}")
        )
    status, messages = _messages_after(request, body.visitor_id, (own or 0) - 1)
    return SendResult(
        duplicate=result.duplicate,
        status=status or result.status.value,
        queue_text=result.queue_text,
        messages=messages,
    )


@router.get("/messages", response_model=History, summary="Conversation history after a message id")
async def history(
    request: Request,
    visitor_id: Annotated[str, Query(min_length=16, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")],
    after: Annotated[int, Query(ge=0)] = 0,
) -> Any:
    status, messages = _messages_after(request, visitor_id, after)
    if status is None and after == 0:
        return History(status=None, messages=[])
    if status is None:
        raise HTTPException(404, "Dit gesprek is niet gevonden.")
    return History(status=status, messages=messages)
