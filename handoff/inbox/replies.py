"""What a worker sends into a conversation: a reply, or the conversation back to the assistant.

Each is stored first (a double click or a retry with the same client id stores nothing
new), then announced on the event bus; the caller wakes the channel's outbox with the
channel returned, and the outbox delivers what is stored (bot/outbox.py).
"""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from handoff.ports import Assistant, AssistantUnavailable
from handoff.store import conversations as convs
from handoff.store.events import EventBus
from handoff.store.models import Author, Channel, Conversation, ConversationStatus, Message, Worker

log = logging.getLogger(__name__)

HANDED_BACK = "De medewerker heeft het gesprek teruggegeven aan de digitale assistent. Je kunt gewoon verder vragen."


def _found(session: Session, conversation_id: int, worker_id: int) -> tuple[Conversation, Worker]:
    conversation = session.get(Conversation, conversation_id)
    worker = session.get(Worker, worker_id)
    if conversation is None or worker is None:
        raise LookupError("conversation or worker not found")
    return conversation, worker


def worker_reply(
    sessions: sessionmaker[Session],
    bus: EventBus,
    conversation_id: int,
    worker_id: int,
    text: str,
    *,
    client_id: str | None = None,
) -> Channel:
    """Store a worker's reply once; the channel it goes out on. Raises LookupError, or
    IllegalTransition when the conversation is not with this worker."""
    with sessions.begin() as session:
        conversation, worker = _found(session, conversation_id, worker_id)
        key = f"worker:{worker.id}:{client_id}" if client_id else None
        if key is not None and session.scalar(select(Message.id).where(Message.dedupe_key == key)) is not None:
            return conversation.channel
        if conversation.status is not ConversationStatus.with_worker or conversation.worker_id != worker.id:
            raise convs.IllegalTransition(f"conversation {conversation_id} is not with worker {worker_id}")
        convs.record_message(session, conversation, Author.worker, text, worker=worker, dedupe_key=key)
        channel, citizen_id = conversation.channel, conversation.citizen_id
    bus.publish({"type": "message", "conversation_id": conversation_id, "citizen_id": citizen_id, "author": "worker"})
    return channel


async def hand_back(
    sessions: sessionmaker[Session], bus: EventBus, assistant: Assistant, conversation_id: int, worker_id: int
) -> Channel:
    """The worker returns the conversation to the assistant, which resumes with context.

    If the assistant cannot be reached now, the conversation is still its own: the next
    citizen message finds it paused and resumes it then (bot/routing.py, `_ask_rasa`)."""
    with sessions.begin() as session:
        conversation, worker = _found(session, conversation_id, worker_id)
        convs.hand_back(session, conversation, worker)
        convs.record_message(session, conversation, Author.system, HANDED_BACK)
        sender, channel, citizen_id = conversation.rasa_sender_id, conversation.channel, conversation.citizen_id
    try:
        await assistant.resume(sender)
    except AssistantUnavailable:
        log.warning("hand back: the assistant was not reached; the next message resumes the conversation")
    bus.publish({"type": "handed_back", "conversation_id": conversation_id, "citizen_id": citizen_id})
    bus.publish({"type": "message", "conversation_id": conversation_id, "citizen_id": citizen_id, "author": "system"})
    return channel
