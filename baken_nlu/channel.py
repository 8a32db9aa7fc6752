"""Rasa's REST channel, plus how the assistant understood the message, in one answer.

POST /webhooks/baken/webhook {"sender", "message", "message_id"?, "metadata"?} answers
{"messages": [...as the REST channel...], "parse": {...} | null}. The desk needs the parse
(intent, confidence, the runner-up, triage) to find messages the assistant was unsure
about for the admins' NLU inbox, without a second round trip or a second parse.
Registered in credentials.yml as `baken_nlu.channel.BakenInput`.

Exactly once: the desk sends its own id for the message. Inside the conversation's lock,
a message whose id the tracker already holds is not processed again; the answer is what
the assistant said to it the first time (replayed from the tracker). So the desk can
resend after a timeout, a crash or a model swap without the assistant hearing it twice.
Not ready (no model loaded) answers 503, and a paused conversation (handed to a worker)
answers 409, so the desk never takes "nothing" for an answer.
GET /webhooks/baken/ says whether a model is loaded: {"status", "ready", "model"}.
"""

from __future__ import annotations

import logging
import re
import uuid
from asyncio import CancelledError
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from rasa.shared.core.events import BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

log = logging.getLogger(__name__)
RANKING = 3
MESSAGE_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,80}$")
BOT_DATA_KEYS = ("image", "buttons", "attachment", "custom")


def summarise_parse(parse: dict[str, Any]) -> dict[str, Any]:
    """The part of a parse result the desk keeps: entity types but not their text, no message text."""
    intent = parse.get("intent") or {}
    ranking = [
        {"name": str(r.get("name")), "confidence": round(float(r.get("confidence") or 0.0), 4)}
        for r in (parse.get("intent_ranking") or [])[:RANKING]
    ]
    triage = parse.get("triage") or {}
    return {
        "intent": str(intent.get("name") or ""),
        "confidence": round(float(intent.get("confidence") or 0.0), 4),
        "ranking": ranking,
        "original_intent": triage.get("original_intent"),
        "urgency": triage.get("urgency"),
        "domains": list(triage.get("domains") or []),
        "input": (parse.get("input_check") or {}).get("kind"),
        "entities": sorted({str(e.get("entity")) for e in parse.get("entities") or [] if e.get("entity")}),
    }


class BakenInput(RestInput):
    @classmethod
    def name(cls) -> str:
        return "baken"

    def get_metadata(self, request: Request) -> dict[str, Any] | None:
        body = request.json if isinstance(request.json, dict) else {}
        metadata = body.get("metadata")
        return metadata if isinstance(metadata, dict) else None

    def message_id(self, request: Request) -> str:
        body = request.json if isinstance(request.json, dict) else {}
        given = body.get("message_id")
        return given if isinstance(given, str) and MESSAGE_ID.match(given) else uuid.uuid4().hex

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        hook = Blueprint("baken_webhook", __name__)

        @hook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            agent = getattr(request.app.ctx, "agent", None)
            if agent is None or not agent.is_ready():
                return response.json({"status": "ok", "ready": False, "model": None})
            return response.json({"status": "ok", "ready": True, "model": agent.model_name})

        @hook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            agent = getattr(request.app.ctx, "agent", None)
            if agent is None or not agent.is_ready():
                return response.json({"ready": False}, status=503)
            sender_id = await self._extract_sender(request)
            text = self._extract_message(request)
            message_id = self.message_id(request)
            collector = CollectingOutputChannel()
            message = UserMessage(
                text,
                collector,
                sender_id,
                input_channel=self.name(),
                metadata=self.get_metadata(request),
                message_id=message_id,
            )
            try:
                async with agent.lock_store.lock(sender_id):
                    tracker = await agent.tracker_store.retrieve(sender_id)
                    if tracker is not None and _heard(tracker, message_id):
                        log.debug("baken channel: message already handled, replaying its answer")
                        return response.json(
                            {
                                "messages": replayed(tracker, message_id),
                                "parse": _parse_in(tracker, message_id),
                                "replayed": True,
                            }
                        )
                    if tracker is not None and tracker.is_paused():
                        return response.json({"paused": True}, status=409)
                    await agent.processor.handle_message(message)
            except CancelledError:
                log.error("baken channel: the message timed out")
                raise
            except Exception:
                log.exception("baken channel: the message failed")
                return response.json({"error": "failed"}, status=500)
            parse = await _parse_of(request, sender_id, message_id)
            return response.json({"messages": collector.messages, "parse": parse})

        return hook


def _heard(tracker: DialogueStateTracker, message_id: str) -> bool:
    return any(isinstance(e, UserUttered) and e.message_id == message_id for e in tracker.events)


def replayed(tracker: DialogueStateTracker, message_id: str) -> list[dict[str, Any]]:
    """What the assistant said after the user message `message_id` (until the next user
    message), in the REST channel's format."""
    messages: list[dict[str, Any]] = []
    found = False
    for event in tracker.events:
        if isinstance(event, UserUttered):
            if found:
                break
            found = event.message_id == message_id
        elif found and isinstance(event, BotUttered):
            item: dict[str, Any] = {"recipient_id": tracker.sender_id}
            if event.text:
                item["text"] = event.text
            for key in BOT_DATA_KEYS:
                if event.data.get(key) is not None:
                    item[key] = event.data[key]
            messages.append(item)
    return messages


def _parse_in(tracker: DialogueStateTracker, message_id: str) -> dict[str, Any] | None:
    for event in reversed(tracker.events):
        if isinstance(event, UserUttered) and event.message_id == message_id:
            return summarise_parse(dict(event.parse_data))
    return None


async def _parse_of(request: Request, sender_id: str, message_id: str) -> dict[str, Any] | None:
    agent = getattr(request.app.ctx, "agent", None)
    if agent is None or agent.tracker_store is None:
        return None
    tracker = await agent.tracker_store.retrieve(sender_id)
    return _parse_in(tracker, message_id) if tracker is not None else None
