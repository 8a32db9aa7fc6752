"""A stand-in for the Rasa server, at the desk's HTTP boundary (`bot.rasa_client`).

For the API tests where what Rasa understands is not what is tested: the inbox, the admin
pages, the widget API and the schema fuzzer only need *an* assistant that answers, asks for
a worker and pauses. Everything on the desk's side runs for real, `RasaClient` included
(through an httpx transport); only the server is scripted here. Rasa itself, the model and
the action server are tested in tests/nlu, tests/dialogue and the end-to-end tests in
tests/bot (test_routing, test_faults, test_browser, test_telegram, test_retrain).

The script mirrors the Baken channel's contract (baken_nlu/channel.py): one message in,
`{"messages", "parse", "replayed"}` out; a handled `message_id` is answered with the first
answers again; a conversation handed to a worker is paused (409) until the desk resumes it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from baken_core.summary import TriageRecord, build_summary
from baken_core.triage import assess
from baken_core.zrm import highest_urgency, ordered_domains

if TYPE_CHECKING:  # the desk's environment; the Rasa side only reads the script (tests/nlu)
    import httpx

    from bot.rasa_client import RasaClient

FALLBACK = "nlu_fallback"


@dataclass(frozen=True)
class Line:
    """What the stub says when a message contains one of `words`."""

    words: tuple[str, ...]
    intent: str
    text: str
    entities: tuple[str, ...] = ()
    handoff: str | None = None
    """The handoff reason, for a line that asks for a worker."""


SCRIPT: tuple[Line, ...] = (
    Line(("medewerker",), "request_human", "Ik geef je gesprek door aan een medewerker.", handoff="request_human"),
    Line(("huurtoeslag",), "ask_huurtoeslag", "Huurtoeslag vraag je aan op toeslagen.nl.", ("benefit",)),
    Line(("zorgtoeslag",), "ask_zorgtoeslag", "Zorgtoeslag vraag je aan op toeslagen.nl.", ("benefit",)),
    Line(("cjib",), "ask_cjib_boete", "Een boete van het CJIB kun je soms in termijnen betalen.", ("creditor",)),
    Line(("hallo", "hoi", "/start"), "greet", "Hoi! Ik ben de digitale assistent van Baken."),
)
NOT_UNDERSTOOD = "Dat begreep ik niet helemaal. Kun je het anders zeggen?"
CRISIS_LINE = "Je gesprek staat bovenaan de rij bij onze medewerkers."


@dataclass
class StubRasa:
    """The scripted server. `calls` counts what reached it, per path, for tests that check it."""

    ready: bool = True
    paused: set[str] = field(default_factory=set)
    answered: dict[str, dict[str, Any]] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)
    models_loaded: list[str] = field(default_factory=list)
    heard: dict[str, list[str]] = field(default_factory=dict)
    """Each sender's messages so far (Rasa's tracker): the handoff summary is made from them."""

    def client(self, timeout_s: float = 10.0) -> RasaClient:
        import httpx

        from bot.rasa_client import RasaClient

        return RasaClient("http://rasa.stub", timeout_s=timeout_s, transport=httpx.MockTransport(self.handle))

    def handle(self, request: httpx.Request) -> httpx.Response:
        import httpx

        path = request.url.path
        self.calls.append(path)
        if path == "/webhooks/baken/":
            return httpx.Response(200, json={"ready": self.ready})
        if not self.ready:
            return httpx.Response(503, json={"error": "no model"})
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
            self.models_loaded.append(str(json.loads(request.content).get("model_file")))
            return httpx.Response(204)
        return httpx.Response(404, json={"error": f"the stub has no {request.method} {path}"})

    def _message(self, body: dict[str, Any]) -> httpx.Response:
        import httpx

        sender, text = str(body["sender"]), str(body.get("message") or "")
        message_id = body.get("message_id")
        if message_id in self.answered:
            return httpx.Response(200, json={**self.answered[message_id], "replayed": True})
        if sender in self.paused:
            return httpx.Response(409, json={"error": "paused"})
        self.heard.setdefault(sender, []).append(text)
        answer = self.answer(text, self.heard[sender])
        if any("custom" in m for m in answer["messages"]):  # ConversationPaused
            self.paused.add(sender)
        if message_id is not None:
            self.answered[str(message_id)] = answer
        return httpx.Response(200, json={**answer, "replayed": False})

    def answer(self, text: str, heard: list[str]) -> dict[str, Any]:
        """The messages and the summarised parse (as the channel sends it) for one text;
        `heard` is the whole conversation so far, this text included."""
        triage = assess(text)
        lowered = text.lower()
        line = next((line for line in SCRIPT if any(word in lowered for word in line.words)), None)
        if triage.urgency == "crisis":
            line = Line((), "report_crisis", CRISIS_LINE, (), "crisis")
        intent, confidence = (line.intent, 0.93) if line else (FALLBACK, 0.31)
        runner_up = "ask_schuldhulpverlening" if intent != "ask_schuldhulpverlening" else "ask_betalingsregeling"
        message: dict[str, Any] = {"recipient_id": "stub", "text": line.text if line else NOT_UNDERSTOOD}
        if line and line.handoff:  # like actions/handoff.py: the line to the citizen carries the payload
            seen = [assess(t) for t in heard]
            urgency = highest_urgency(*(t.urgency for t in seen))
            domains = ordered_domains([d for t in seen for d in t.domains])
            summary = build_summary(TriageRecord(urgency=urgency, domains=domains, citizen_words=heard[-6:]))
            handoff = {"reason": line.handoff, "urgency": urgency, "domains": domains}
            message["custom"] = {"handoff": {**handoff, "summary": summary}}
        parse = {
            "intent": intent,
            "confidence": confidence,
            "ranking": [
                {"name": intent, "confidence": confidence},
                {"name": runner_up, "confidence": round(1 - confidence, 4)},
            ],
            "original_intent": None,
            "urgency": triage.urgency,
            "domains": list(triage.domains),
            "input": "ok",
            "entities": sorted(line.entities) if line else [],
        }
        return {"messages": [message], "parse": parse}
