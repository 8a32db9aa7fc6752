"""The values that cross between a channel and the dispatcher: a citizen's message as the
channel received it, what to send back, what routing did with it, and a claimed message."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from bot.rasa_client import BotReply
from handoff.store.models import Author, Channel, ConversationStatus, Urgency


@dataclass(frozen=True)
class Inbound:
    """A message from a citizen, as a channel received it."""

    channel: Channel
    external_id: str
    text: str
    dedupe_key: str | None = None
    source: str | None = None
    display_name: str | None = None
    attachments: Sequence[dict[str, Any]] = ()
    notice: str | None = None
    """What the channel itself has to say about the message (a file that was too big):
    stored with it, before any answer."""
    ip: str | None = None
    """The sender's address (the widget), for the per-IP limits."""


@dataclass(frozen=True)
class Outgoing:
    text: str
    buttons: list[dict[str, str]] | None = None
    author: Author = Author.bot
    """Who it is from: the assistant (bot), the desk itself (system) or a worker."""


@dataclass
class InboundResult:
    conversation_id: int
    status: ConversationStatus
    duplicate: bool = False
    crisis: bool = False
    replies: list[Outgoing] = field(default_factory=list)
    """What was stored in answer to the message by this call, in order."""
    queue_text: str | None = None
    citizen_id: int | None = None
    message_id: int | None = None
    reply: BotReply | None = None
    """What the assistant answered (with its parse), when the message went to Rasa."""
    in_progress: bool = False
    """A resend of a message another request or process is answering right now."""


@dataclass(frozen=True)
class Work:
    """A claimed citizen message, as stored."""

    message_id: int
    conversation_id: int
    citizen_id: int
    status: ConversationStatus
    sender: str
    channel: Channel
    source: str | None
    text: str
    attachments: list[dict[str, Any]]
    crisis: bool
    payload: str | None = None
    """The payload of the button whose title `text` is (read while the conversation is with
    the assistant): what Rasa gets instead of the title."""
    attempts: int = 0
    """Claims of this message before this one (each claim counts, also one a crash ended)."""
    token: int | None = None
    """This claim's fence (processing.Claim.token): the answer is stored only while it holds."""


@dataclass
class QueueRequest:
    reason: str
    urgency: Urgency
    domains: Sequence[str]
    summary: str = ""
    team_id: int | None = None
    """Queue for this team instead of routing anew (a follow-up goes back to its team)."""
