"""Small read helpers over the Rasa tracker, shared by the actions."""

from __future__ import annotations

from typing import Any, Dict, List

from rasa_sdk import Tracker

MAX_QUOTED_MESSAGES = 6
MAX_QUOTE_CHARS = 300


def understood_intent(tracker: Tracker) -> str | None:
    """The intent of the latest user message."""
    intent = (tracker.latest_message or {}).get("intent") or {}
    name = intent.get("name")
    return str(name) if name else None


def latest_triage(tracker: Tracker) -> Dict[str, Any]:
    """The triage the NLU attached to the latest message (empty when absent)."""
    triage = (tracker.latest_message or {}).get("triage")
    return triage if isinstance(triage, dict) else {}


def entity_values(tracker: Tracker, label: str) -> List[str]:
    """Values of one entity in the latest user message (a button payload's entities too)."""
    entities = (tracker.latest_message or {}).get("entities") or []
    return [str(e.get("value")) for e in entities if e.get("entity") == label and e.get("value") is not None]


def latest_input_kind(tracker: Tracker) -> str:
    check = (tracker.latest_message or {}).get("input_check")
    return str(check.get("kind", "ok")) if isinstance(check, dict) else "ok"


def citizen_words(tracker: Tracker) -> List[str]:
    """The citizen's own messages, shortened: not button payloads, not answers to the form.

    Form answers are already in the summary as scores; the story itself is in the free
    messages. With many messages the first and the latest ones are kept.
    """
    words: List[str] = []
    in_form = False
    for event in tracker.events:
        if event.get("event") == "active_loop":
            in_form = bool(event.get("name"))
            continue
        if event.get("event") != "user" or in_form:
            continue
        text = (event.get("text") or "").strip()
        if not text or text.startswith("/"):
            continue
        words.append(text if len(text) <= MAX_QUOTE_CHARS else text[: MAX_QUOTE_CHARS - 1] + "…")
    if len(words) > MAX_QUOTED_MESSAGES:
        half = MAX_QUOTED_MESSAGES // 2
        words = words[:half] + words[-half:]
    return words


def mentioned_entities(tracker: Tracker) -> Dict[str, List[str]]:
    """Entity values the citizen named in the conversation, by label, first mention first."""
    found: Dict[str, List[str]] = {}
    for event in tracker.events:
        if event.get("event") != "user":
            continue
        for entity in (event.get("parse_data") or {}).get("entities") or []:
            label, value = entity.get("entity"), str(entity.get("value") or "").strip()
            if not label or not value or label == "zrm_score":
                continue
            values = found.setdefault(label, [])
            if value.lower() not in (v.lower() for v in values):
                values.append(value)
    return found
