"""Talking to the Rasa server over HTTP (the desk never imports Rasa).

One round trip per citizen message through the `baken` channel (Rasa's REST channel that
also returns the parse, baken_nlu/channel.py). Every message carries the desk's own id,
and the channel handles an id only once, so `send` may be repeated after any failure (a
timeout, a 5xx, a crash of the desk) without the assistant hearing the message twice.
The tracker endpoint gives the triage snapshot (slots); the events endpoint resumes a
paused conversation when a worker hands it back to the assistant.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx

from handoff.ports import AssistantUnavailable

RETRIES = 2
RETRY_DELAY_S = 0.3


class RasaUnavailable(AssistantUnavailable):
    """Rasa did not answer (down, timing out, or answering with an error)."""


class RasaNotReady(RasaUnavailable):
    """Rasa is starting or has no model loaded yet: wait, do not hand off."""


class RasaPaused(RuntimeError):
    """Rasa holds the conversation as paused (handed to a worker) and did not process the message."""


class RasaEmpty(RasaUnavailable):
    """Rasa answered with nothing at all: a failure, not 'nothing to say'."""


NOT_SENT: tuple[type[Exception], ...] = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
"""Failures where the request never reached Rasa: safe to send again."""


@dataclass
class BotReply:
    """What the assistant said back to one message."""

    texts: list[dict[str, Any]] = field(default_factory=list)
    """Bot messages: {"text", "buttons"?, "handoff"?}, in order."""
    handoff: dict[str, Any] | None = None
    """The custom handoff payload, if the assistant asked for a worker."""
    parse: dict[str, Any] | None = None
    """How the assistant understood the message: intent, confidence, ranking, triage."""
    replayed: bool = False
    """Rasa had already handled this message id; these are its first answers again."""
    next_step: bool = False
    """An answer with a concrete next step (the action server's custom `{"next_step": true}`):
    the desk may offer a check-in later (handoff/store/followups.py)."""


def parse_reply(messages: list[dict[str, Any]]) -> BotReply:
    reply = BotReply()
    for message in messages:
        custom = message.get("custom")
        if isinstance(custom, dict) and isinstance(custom.get("handoff"), dict):
            reply.handoff = custom["handoff"]
        if isinstance(custom, dict) and custom.get("next_step") is True:
            reply.next_step = True
        if message.get("text"):
            item: dict[str, Any] = {"text": str(message["text"])}
            if isinstance(custom, dict) and isinstance(custom.get("handoff"), dict):
                item["handoff"] = True  # the line that tells the citizen about the handoff
            if message.get("buttons"):
                item["buttons"] = [
                    {"title": str(b.get("title", "")), "payload": str(b.get("payload", ""))} for b in message["buttons"]
                ]
            reply.texts.append(item)
    return reply


class RasaApi(Protocol):
    """What the desk uses of Rasa: `RasaClient` for one server, `bot.rasa_pool.RasaPool` for several."""

    async def send(
        self, sender_id: str, text: str, metadata: dict[str, Any] | None = None, *, message_id: str | None = None
    ) -> BotReply: ...

    async def tracker(self, sender_id: str) -> dict[str, Any]: ...

    async def resume(self, sender_id: str) -> None: ...

    async def replace_model(self, model_file: str, timeout_s: float = 300.0) -> None: ...

    async def readiness(self) -> str: ...

    async def close(self) -> None: ...


def model_request(model_file: str, model_token: str | None) -> dict[str, Any]:
    """The body of Rasa's PUT /model for a path or for a download URL.

    For a URL, Rasa 3.6 (rasa/server.py `load_model`) builds an `EndpointConfig` from
    `model_server` and downloads with its `headers`, so the token goes in an Authorization
    header (Rasa's own `token` would put it in the URL's query string). No
    `wait_time_between_pulls`: one download now, no polling of a version's URL; a Rasa whose
    endpoints.yml has a `models:` section ignores this body and pulls that section's URL
    (rasa/core/agent.py `load_agent`), which serves the live model."""
    if not model_file.startswith(("http://", "https://")):
        return {"model_file": model_file}
    server: dict[str, Any] = {"url": model_file, "wait_time_between_pulls": None}
    if model_token:
        server["headers"] = {"Authorization": f"Bearer {model_token}"}
    return {"model_server": server}


class RasaClient:
    """A small async client; create it in the app's lifespan, not at import."""

    def __init__(
        self,
        base_url: str,
        timeout_s: float = 10.0,
        token: str | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        *,
        model_token: str | None = None,
    ) -> None:
        self._client = httpx.AsyncClient(base_url=base_url.rstrip("/"), timeout=timeout_s, transport=transport)
        self._params = {"token": token} if token else {}
        self._model_token = model_token

    async def close(self) -> None:
        await self._client.aclose()

    async def _request(
        self, method: str, path: str, *, idempotent: bool = True, retries: int = RETRIES, **kwargs: Any
    ) -> Any:
        """One request with a short retry. A request that is not idempotent (a citizen's
        message) is retried only when it cannot have reached Rasa (no connection): after a
        read timeout or a 5xx, Rasa may have handled it, and sending it again would make the
        assistant hear the message twice."""
        retryable: tuple[type[Exception], ...] = (httpx.TransportError, RasaUnavailable) if idempotent else NOT_SENT
        last: Exception | None = None
        for attempt in range(retries + 1):
            try:
                response = await self._client.request(method, path, params=self._params, **kwargs)
                if response.status_code >= 500:
                    raise RasaUnavailable(f"Rasa answered {response.status_code}")
                response.raise_for_status()
                return response.json()
            except retryable as exc:
                last = exc
                if attempt < retries:
                    await asyncio.sleep(RETRY_DELAY_S * (attempt + 1))
            except (httpx.TransportError, httpx.HTTPStatusError, ValueError) as exc:
                raise RasaUnavailable(str(exc)) from exc
        raise RasaUnavailable(str(last)) from last

    async def send(
        self, sender_id: str, text: str, metadata: dict[str, Any] | None = None, *, message_id: str | None = None
    ) -> BotReply:
        """One citizen message to the assistant, one attempt; its replies and any handoff request.

        With `message_id` the call is idempotent (the channel handles an id once), so the
        caller retries. Raises RasaNotReady, RasaPaused, RasaEmpty or RasaUnavailable."""
        body: dict[str, Any] = {"sender": sender_id, "message": text, "metadata": metadata or {}}
        if message_id is not None:
            body["message_id"] = message_id
        try:
            response = await self._client.post("/webhooks/baken/webhook", params=self._params, json=body)
        except NOT_SENT as exc:
            raise RasaNotReady(f"Rasa is not listening: {exc}") from exc
        except httpx.HTTPError as exc:
            raise RasaUnavailable(str(exc) or type(exc).__name__) from exc
        if response.status_code == 503:
            raise RasaNotReady("Rasa has no model loaded yet")
        if response.status_code == 409:
            raise RasaPaused(sender_id)
        if response.status_code != 200:
            raise RasaUnavailable(f"Rasa answered {response.status_code}")
        try:
            answer = response.json()
        except ValueError as exc:
            raise RasaUnavailable("Rasa's answer is not JSON") from exc
        if not isinstance(answer, dict):
            raise RasaEmpty("Rasa's answer is not an object")
        messages = answer.get("messages")
        reply = parse_reply(messages if isinstance(messages, list) else [])
        parse = answer.get("parse")
        reply.parse = parse if isinstance(parse, dict) else None
        reply.replayed = bool(answer.get("replayed"))
        if not reply.texts and reply.handoff is None:
            raise RasaEmpty("Rasa answered with no message")
        return reply

    async def tracker(self, sender_id: str, *, retries: int = RETRIES) -> dict[str, Any]:
        """The conversation's tracker; `retries`: how often to try again (a pool with another
        replica to ask passes 0)."""
        result = await self._request("GET", f"/conversations/{sender_id}/tracker", retries=retries)
        return result if isinstance(result, dict) else {}

    async def resume(self, sender_id: str, *, retries: int = RETRIES) -> None:
        """Un-pause the assistant after a worker hands the conversation back."""
        # After ConversationPaused the assistant never listened; without action_listen its rules
        # would not match the next message.
        events = [{"event": "resume"}, {"event": "action", "name": "action_listen"}]
        await self._request("POST", f"/conversations/{sender_id}/tracker/events", json=events, retries=retries)

    async def replace_model(self, model_file: str, timeout_s: float = 300.0) -> None:
        """Load another model into the running server (Rasa's PUT /model); conversations go on.

        `model_file` is a path on Rasa's machine, or an http(s) URL of the desk's model server
        (handoff/learning/model_server_api.py), which Rasa downloads with the model token."""
        body = model_request(model_file, self._model_token)
        try:
            response = await self._client.put("/model", params=self._params, json=body, timeout=timeout_s)
        except httpx.HTTPError as exc:
            raise RasaUnavailable(str(exc)) from exc
        if response.status_code != 204:
            raise RasaUnavailable(f"Rasa could not load the model ({response.status_code})")

    async def readiness(self) -> str:
        """ "ready" (a model is loaded and answers), "loading" (listening, no model yet) or "down"."""
        try:
            response = await self._client.get("/webhooks/baken/", params=self._params, timeout=2.0)
        except httpx.HTTPError:
            return "down"
        if response.status_code != 200:
            return "down"
        try:
            body = response.json()
        except ValueError:
            return "down"
        return "ready" if isinstance(body, dict) and body.get("ready") else "loading"
