"""Rasa's REST channel, plus how the assistant understood the message, in one answer.

POST /webhooks/baken/webhook {"sender", "message", "metadata"?} answers
{"messages": [...as the REST channel...], "parse": {...} | null}. The desk needs the parse
(intent, confidence, the runner-up, triage) to find messages the assistant was unsure
about for the admins' NLU inbox, without a second round trip or a second parse.
Registered in credentials.yml as `baken_nlu.channel.BakenInput`.
"""

from __future__ import annotations

import logging
import uuid
from asyncio import CancelledError
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from rasa.shared.core.events import UserUttered
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

log = logging.getLogger(__name__)
RANKING = 3


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

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        hook = Blueprint("baken_webhook", __name__)

        @hook.route("/", methods=["GET"])
        async def health(_request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @hook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            sender_id = await self._extract_sender(request)
            text = self._extract_message(request)
            collector = CollectingOutputChannel()
            message_id = uuid.uuid4().hex
            try:
                await on_new_message(
                    UserMessage(
                        text,
                        collector,
                        sender_id,
                        input_channel=self.name(),
                        metadata=self.get_metadata(request),
                        message_id=message_id,
                    )
                )
            except CancelledError:
                log.error("baken channel: the message timed out")
            except Exception:
                log.exception("baken channel: the message failed")
            parse = await _parse_of(request, sender_id, message_id)
            return response.json({"messages": collector.messages, "parse": parse})

        return hook


async def _parse_of(request: Request, sender_id: str, message_id: str) -> dict[str, Any] | None:
    agent = getattr(request.app.ctx, "agent", None)
    if agent is None or agent.tracker_store is None:
        return None
    tracker = await agent.tracker_store.retrieve(sender_id)
    if tracker is None:
        return None
    for event in reversed(tracker.events):
        if isinstance(event, UserUttered) and event.message_id == message_id:
            return summarise_parse(dict(event.parse_data))
    return None
