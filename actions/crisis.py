"""Crisis: the numbers first, immediately and every time; no triage questions."""

from __future__ import annotations

from typing import Any, Dict, List

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from baken_core.crisis import CRISIS_MESSAGE, CRISIS_MESSAGE_EN, OTHER_LANGUAGE_SIGNALS


class ActionCrisisResponse(Action):
    """Sends the crisis numbers; the rule then hands off with urgency crisis."""

    def name(self) -> str:
        return "action_crisis_response"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> List[EventType]:
        dispatcher.utter_message(text=CRISIS_MESSAGE)
        triage = tracker.latest_message.get("triage") or {}
        signals = triage.get("signals") or []
        if any(signal in OTHER_LANGUAGE_SIGNALS for signal in signals):
            dispatcher.utter_message(text=CRISIS_MESSAGE_EN)
        return [SlotSet("triage_urgency", "crisis")]
