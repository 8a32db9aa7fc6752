"""Build rasa-sdk trackers from plain dicts: no Rasa server, no live calls."""

from __future__ import annotations

import asyncio
from typing import Any, Dict, List

import pytest
from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher


def make_tracker(
    slots: Dict[str, Any] | None = None,
    intent: str | None = None,
    text: str = "",
    triage: Dict[str, Any] | None = None,
    ranking: List[Dict[str, Any]] | None = None,
    input_kind: str = "ok",
    user_texts: List[str] | None = None,
) -> Tracker:
    latest = {
        "text": text,
        "intent": {"name": intent, "confidence": 0.9} if intent else {},
        "intent_ranking": ranking or [],
        "entities": [],
        "triage": triage or {"domains": [], "urgency": "normal"},
        "input_check": {"kind": input_kind},
    }
    events = [{"event": "user", "text": t} for t in (user_texts or [text] if text else [])]
    return Tracker("test-user", slots or {}, latest, events, False, None, {}, "action_listen")


def run_action(action: Action, tracker: Tracker) -> tuple[List[Dict[str, Any]], List[Dict[str, Any]]]:
    """Run an action; return (messages sent, events returned)."""
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker, {}))
    return dispatcher.messages, events


@pytest.fixture
def tracker_factory():
    return make_tracker
