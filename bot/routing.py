"""One citizen message, end to end: store, crisis safety net, route by conversation status.

1. The message is stored before anything else; a redelivery (same dedupe key) stops here.
2. The crisis safety net (the triage rules, no model needed) runs in every state.
3. Status `bot`: one round trip to Rasa; its replies are stored and returned. A handoff
   payload, a crisis, or Rasa failing (after a short retry) queues the conversation.
   Status `queued` / `with_worker`: the message goes to the worker inbox, not to Rasa.
4. Outside office hours the citizen hears honestly when a worker will answer.

Channels (Telegram, widget) call `Router.inbound` and deliver the returned replies.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from baken_core.crisis import CRISIS_MESSAGE
from baken_core.summary import TriageRecord, build_summary
from baken_core.triage import assess, crisis_signals
from baken_core.zrm import highest_urgency
from bot.rasa_client import BotReply, RasaClient, RasaUnavailable
from handoff import conversations as convs
from handoff import nlu_inbox, queue_info
from handoff.events import EventBus
from handoff.models import (
    Author,
    Channel,
    Conversation,
    ConversationStatus,
    Message,
    Outcome,
    Urgency,
    Worker,
    utcnow,
)
from handoff.office_hours import OfficeHours

MAX_TEXT_CHARS = 10_000

RASA_DOWN = (
    "De digitale assistent is even niet bereikbaar. Je bericht is bewaard. "
    "Ik zet je door naar een medewerker, die leest wat je schreef."
)
ATTACHMENT_WITH_BOT = (
    "Dank je. De digitale assistent kan foto's en bestanden niet lezen, maar een medewerker wel. "
    "Wil je dat een medewerker meekijkt? Typ dan: ik wil een medewerker."
)
QUEUED_ATTACHMENT = "Je bestand is bewaard; de medewerker ziet het."
EMPTY = "Ik zie geen tekst in je bericht. Typ je vraag gerust in je eigen woorden."


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
    queue_text: str | None = None
    citizen_id: int | None = None
    message_id: int | None = None
    reply: BotReply | None = None
    """What the assistant answered (with its parse), when the message went to Rasa."""


class Router:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        rasa: RasaClient,
        hours: OfficeHours,
        bus: EventBus,
        clock: Callable[[], dt.datetime] = utcnow,
        thresholds: nlu_inbox.Thresholds | None = None,
    ) -> None:
        self.sessions = sessions
        self.thresholds = thresholds or nlu_inbox.Thresholds()
        self.rasa = rasa
        self.hours = hours
        self.bus = bus
        self.clock = clock

    async def inbound(self, message: Inbound) -> InboundResult:
        text = (message.text or "").replace("\x00", "")[:MAX_TEXT_CHARS]  # PostgreSQL text cannot hold NUL
        with self.sessions.begin() as session:
            citizen = convs.citizen_for(session, message.channel, message.external_id, message.display_name)
            conversation = convs.active_conversation(session, citizen, message.source)
            stored, created = convs.record_message(
                session,
                conversation,
                Author.citizen,
                convs.button_title(session, conversation, text) or text,
                dedupe_key=message.dedupe_key,
                attachments=list(message.attachments) or None,
            )
            result = InboundResult(conversation.id, conversation.status, duplicate=not created)
            result.citizen_id = citizen.id
            result.message_id = stored.id
            sender = conversation.rasa_sender_id
            if not created:
                return result
        self.bus.publish(
            {
                "type": "message",
                "conversation_id": result.conversation_id,
                "citizen_id": citizen.id,
                "author": "citizen",
            }
        )

        result.crisis = bool(crisis_signals(text))
        if result.status is ConversationStatus.bot:
            await self._with_bot(result, sender, text, message)
        else:
            self._with_people(result, text, message)
        self._store_replies(result)
        return result

    def worker_reply(self, conversation_id: int, worker_id: int, text: str) -> tuple[Channel, str, Outgoing]:
        """Store a worker's reply; return where to deliver it (channel, citizen id, message)."""
        with self.sessions.begin() as session:
            conversation = session.get(Conversation, conversation_id)
            worker = session.get(Worker, worker_id)
            if conversation is None or worker is None:
                raise LookupError("conversation or worker not found")
            if conversation.status is not ConversationStatus.with_worker or conversation.worker_id != worker.id:
                raise convs.IllegalTransition(f"conversation {conversation_id} is not with worker {worker_id}")
            convs.record_message(session, conversation, Author.worker, text, worker=worker)
            target = (conversation.channel, conversation.citizen.external_id)
            citizen_id = conversation.citizen_id
        self.bus.publish(
            {"type": "message", "conversation_id": conversation_id, "citizen_id": citizen_id, "author": "worker"}
        )
        return target[0], target[1], Outgoing(text, author=Author.worker)

    async def hand_back(self, conversation_id: int, worker_id: int) -> tuple[Channel, str, Outgoing]:
        """The worker returns the conversation to the assistant; Rasa resumes with context."""
        with self.sessions.begin() as session:
            conversation = session.get(Conversation, conversation_id)
            worker = session.get(Worker, worker_id)
            if conversation is None or worker is None:
                raise LookupError("conversation or worker not found")
            convs.hand_back(session, conversation, worker)
            note = (
                "De medewerker heeft het gesprek teruggegeven aan de digitale assistent. Je kunt gewoon verder vragen."
            )
            convs.record_message(session, conversation, Author.system, note)
            sender, target = conversation.rasa_sender_id, (conversation.channel, conversation.citizen.external_id)
            citizen_id = conversation.citizen_id
        await self.rasa.resume(sender)
        self.bus.publish({"type": "handed_back", "conversation_id": conversation_id, "citizen_id": citizen_id})
        return target[0], target[1], Outgoing(note, author=Author.system)

    async def stop(self, channel: Channel, external_id: str) -> None:
        """The citizen ends the conversation (/stop): closed, with nothing lost."""
        with self.sessions.begin() as session:
            citizen = convs.find_citizen(session, channel, external_id)
            conversation = convs.open_conversation(session, citizen) if citizen else None
            if conversation is None:
                return
            convs.close(session, conversation, None, Outcome.no_response, "De inwoner stopte het gesprek zelf.")
            conversation_id, citizen_id = conversation.id, conversation.citizen_id
        self.bus.publish({"type": "closed", "conversation_id": conversation_id, "citizen_id": citizen_id})

    async def _with_bot(self, result: InboundResult, sender: str, text: str, message: Inbound) -> None:
        if message.attachments and not text.strip():
            result.replies.append(Outgoing(ATTACHMENT_WITH_BOT, author=Author.system))
            return
        if not text.strip():
            result.replies.append(Outgoing(EMPTY, author=Author.system))
            return
        try:
            reply = await self.rasa.send(sender, text, {"channel": message.channel.value, "source": message.source})
        except RasaUnavailable:
            if result.crisis:
                result.replies.append(Outgoing(CRISIS_MESSAGE, author=Author.system))
            result.replies.append(Outgoing(RASA_DOWN, author=Author.system))
            urgency = Urgency.crisis if result.crisis else Urgency(assess(text).urgency)
            self._queue(result, reason="rasa_unavailable", urgency=urgency, domains=assess(text).domains, summary="")
            return
        result.reply = reply  # its parse is kept with the replies, in one transaction
        result.replies.extend(Outgoing(t["text"], t.get("buttons")) for t in reply.texts)
        if message.attachments and not (reply.handoff or result.crisis):  # the caption was answered, not the file
            result.replies.append(Outgoing(ATTACHMENT_WITH_BOT, author=Author.system))
        if result.crisis and not any(CRISIS_MESSAGE in r.text for r in result.replies):
            result.replies.insert(0, Outgoing(CRISIS_MESSAGE, author=Author.system))  # the safety net speaks first
        if reply.handoff or result.crisis:
            self._queue_from_reply(result, reply)

    def _note_understanding(self, session: Session, result: InboundResult) -> None:
        """Keep the parse on the citizen's message; unsure ones go (masked) to the NLU inbox."""
        reply = result.reply
        if result.message_id is None or reply is None:
            return
        message = session.get(Message, result.message_id)
        if message is None:
            return
        nlu_inbox.record_parse(session, message, reply.parse, self.thresholds)
        if (reply.handoff or {}).get("reason") == "misunderstanding":
            nlu_inbox.add(session, message, "handoff_misunderstanding", self.thresholds)

    def _queue_from_reply(self, result: InboundResult, reply: BotReply) -> None:
        payload = reply.handoff or {}
        urgency = highest_urgency(payload.get("urgency"), "crisis" if result.crisis else None)
        self._queue(
            result,
            reason=str(payload.get("reason") or ("crisis" if result.crisis else "request_human")),
            urgency=Urgency(urgency),
            domains=payload.get("domains") or [],
            summary=str(payload.get("summary") or ""),
        )

    def _with_people(self, result: InboundResult, text: str, message: Inbound) -> None:
        if result.crisis:
            result.replies.append(Outgoing(CRISIS_MESSAGE, author=Author.system))
            self._queue(result, reason="crisis", urgency=Urgency.crisis, domains=assess(text).domains, summary="")
        if any(a.get("id") for a in message.attachments):  # stored; a refused file got its own notice
            result.replies.append(Outgoing(QUEUED_ATTACHMENT, author=Author.system))
        if result.status is ConversationStatus.queued and not result.crisis:
            with self.sessions() as session:
                result.queue_text = queue_info.describe(session, result.conversation_id)
            if result.queue_text:
                result.replies.append(Outgoing(f"Je bericht is bewaard. {result.queue_text}", author=Author.system))

    def _queue(
        self, result: InboundResult, *, reason: str, urgency: Urgency, domains: Sequence[str], summary: str
    ) -> None:
        now = self.clock()
        with self.sessions.begin() as session:
            conversation = session.get(Conversation, result.conversation_id)
            assert conversation is not None
            if not summary:
                summary = build_summary(
                    TriageRecord(
                        urgency=urgency.value,
                        domains=list(domains),
                        citizen_words=_citizen_words(session, conversation),
                    )
                )
            handoff = convs.queue(
                session, conversation, reason=reason, urgency=urgency, domains=domains, summary=summary
            )
            result.status = conversation.status
            queue_text = queue_info.describe(session, conversation.id)
            event = {
                "type": "queued",
                "conversation_id": conversation.id,
                "citizen_id": conversation.citizen_id,
                "urgency": handoff.urgency.value,
            }
        self.bus.publish(event)
        if urgency is Urgency.crisis:
            self.bus.publish({"type": "crisis", "conversation_id": result.conversation_id})
        if self.hours.is_open(now):
            if queue_text and urgency is not Urgency.crisis:
                result.queue_text = queue_text
                result.replies.append(Outgoing(queue_text, author=Author.system))
            return
        when = self.hours.describe_next_opening(now)
        if urgency is Urgency.crisis:
            result.replies.append(
                Outgoing(
                    "Er is nu niemand van ons online. Wacht daarom niet op ons: bel 113 of 0800-0113 "
                    f"(of chat op 113.nl), en 112 bij direct gevaar. Een medewerker leest je bericht {when}.",
                    author=Author.system,
                )
            )
        else:
            result.replies.append(
                Outgoing(
                    f"Onze medewerkers zijn er nu niet. Ze reageren {when}. Laat gerust een bericht achter: "
                    "dat staat dan bovenaan in de rij.",
                    author=Author.system,
                )
            )

    def _store_replies(self, result: InboundResult) -> None:
        if not result.replies and result.reply is None:
            return
        with self.sessions.begin() as session:
            self._note_understanding(session, result)
            if not result.replies:
                return
            conversation = session.get(Conversation, result.conversation_id)
            assert conversation is not None
            for reply in result.replies:
                convs.record_message(session, conversation, reply.author, reply.text, buttons=reply.buttons)
            citizen_id = conversation.citizen_id
        self.bus.publish(
            {"type": "message", "conversation_id": result.conversation_id, "citizen_id": citizen_id, "author": "bot"}
        )


def _citizen_words(session: Session, conversation: Conversation, limit: int = 6) -> list[str]:
    rows = session.scalars(
        select(Message.text)
        .where(Message.conversation_id == conversation.id, Message.author == Author.citizen, Message.text != "")
        .order_by(Message.id)
        .limit(limit)
    ).all()
    return [text[:300] for text in rows]
