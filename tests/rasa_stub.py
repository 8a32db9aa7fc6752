"""A stand-in for the Rasa server, at the desk's HTTP boundary (`bot.rasa_client`).

For the API tests where what Rasa understands is not what is tested: the inbox, the admin
pages, the widget API and the schema fuzzer only need *an* assistant that answers, asks for
a worker and pauses. Everything on the desk's side runs for real, `RasaClient` included
(through an httpx transport); only the server is scripted here. Rasa itself, the model and
the action server are tested in tests/baken_nlu, tests/dialogue and the end-to-end tests
(tests/bot: test_routing, test_telegram*; tests/desk: test_browser, test_faults, test_retrain).

The script mirrors the Baken channel's contract (baken_nlu/channel.py): one message in,
`{"messages", "parse", "replayed"}` out; a handled `message_id` is answered with the first
answers again; a conversation handed to a worker is paused (409) until the desk resumes it.
What it says is in tests/rasa_script.py.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import httpx

from bot.rasa_client import RasaClient
from tests.rasa_script import answer


@dataclass
class StubRasa:
    """The scripted server: always ready, one model."""

    paused: set[str] = field(default_factory=set)
    answered: dict[str, dict[str, Any]] = field(default_factory=dict)
    heard: dict[str, list[str]] = field(default_factory=dict)
    """Each sender's messages so far (Rasa's tracker): the handoff summary is made from them."""

    def client(self, timeout_s: float = 10.0) -> RasaClient:
        return RasaClient("http://rasa.stub", timeout_s=timeout_s, transport=httpx.MockTransport(self.handle))

    def handle(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path == "/webhooks/baken/":
            return httpx.Response(200, json={"ready": True})
        if path == "/webhooks/baken/webhook" and request.method == "POST":
            return self._message(json.loads(request.content))
        if path.endswith("/tracker/events") and request.method == "POST":
            sender = path.split("/")[2]
            if any(e.get("event") == "resume" for e in json.loads(request.content)):
                self.paused.discard(sender)
            return httpx.Response(200, json={"sender_id": sender})
        if path.endswith("/tracker"):
            return httpx.Response(200, json={"sender_id": path.split("/")[2], "slots": {}, "events": []})
        if path == "/model" and request.method == "PUT":
            return httpx.Response(204)
        return httpx.Response(404, json={"error": f"the stub has no {request.method} {path}"})

    def _message(self, body: dict[str, Any]) -> httpx.Response:
        sender, text = str(body["sender"]), str(body.get("message") or "")
        message_id = body.get("message_id")
        if message_id in self.answered:
            return httpx.Response(200, json={**self.answered[message_id], "replayed": True})
        if sender in self.paused:
            return httpx.Response(409, json={"error": "paused"})
        self.heard.setdefault(sender, []).append(text)
        said = answer(text, self.heard[sender])
        if any("custom" in m for m in said["messages"]):  # ConversationPaused
            self.paused.add(sender)
        if message_id is not None:
            self.answered[str(message_id)] = said
        return httpx.Response(200, json={**said, "replayed": False})
