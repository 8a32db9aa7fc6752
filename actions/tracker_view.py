"""Small read helpers over the Rasa tracker, shared by the actions."""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from rasa_sdk import Tracker

MAX_QUOTED_MESSAGES = 6
MAX_QUOTE_CHARS = 300


def understood_intent(tracker: Tracker) -> Optional[str]:
    """The intent of the latest user message."""
    intent = (tracker.latest_message or {}).get("intent") or {}
    name = intent.get("name")
    return str(name) if name else None


def latest_triage(tracker: Tracker) -> Dict[str, Any]:
    """The triage the NLU attached to the latest message (empty when absent)."""
    triage = (tracker.latest_message or {}).get("triage")
    return triage if isinstance(triage, dict) else {}


def latest_input_kind(tracker: Tracker) -> str:
    check = (tracker.latest_message or {}).get("input_check")
    return str(check.get("kind", "ok")) if isinstance(check, dict) else "ok"


def citizen_words(tracker: Tracker) -> List[str]:
    """The citizen's own messages (not button payloads), most recent last, shortened."""
    words: List[str] = []
    for event in tracker.events:
        if event.get("event") != "user":
            continue
        text = (event.get("text") or "").strip()
        if not text or text.startswith("/"):
            continue
        words.append(text if len(text) <= MAX_QUOTE_CHARS else text[: MAX_QUOTE_CHARS - 1] + "…")
    return words[-MAX_QUOTED_MESSAGES:]
