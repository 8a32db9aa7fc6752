"""Crisis: the numbers first, immediately and every time; no triage questions."""

from __future__ import annotations

from typing import Any, Dict, List

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from baken_core.crisis import CRISIS_MESSAGE_EN, OTHER_LANGUAGE_SIGNALS, crisis_message


class ActionCrisisResponse(Action):
    """Sends the crisis numbers; the rule then hands off with urgency crisis."""

    def name(self) -> str:
        return "action_crisis_response"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> List[EventType]:
        triage = tracker.latest_message.get("triage") or {}
        signals = triage.get("signals") or []
        # the assistant does not know the hour: this version promises nothing about when (the
        # desk sends its own, which does, and leaves this one out)
        violence = any(s in ("violence_at_home", "violence_other_language") for s in signals)
        dispatcher.utter_message(text=crisis_message(child="writer_child" in signals, violence=violence))
        if any(signal in OTHER_LANGUAGE_SIGNALS for signal in signals):
            dispatcher.utter_message(text=CRISIS_MESSAGE_EN)
        return [SlotSet("triage_urgency", "crisis")]
