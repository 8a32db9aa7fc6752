"""What the scripted assistant of the desk's API tests says (tests/rasa_stub.py serves it).

Plain Python and baken_core only, so the Rasa environment checks it against the real
channel's parse (tests/baken_nlu/test_channel.py)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from baken_core.summary import TriageRecord, build_summary
from baken_core.triage import assess
from baken_core.zrm import highest_urgency, ordered_domains

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


def answer(text: str, heard: list[str]) -> dict[str, Any]:
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
