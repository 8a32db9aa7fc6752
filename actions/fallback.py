"""When the assistant does not understand: rephrase with suggestions, then offer a person.

First miss: ask to rephrase, with the likeliest topics as buttons. Second: offer a worker.
Third: hand off (reason "misunderstanding"). An understood answer resets the count.
"""

from __future__ import annotations

from typing import Any, Dict, List

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.content import knowledge
from actions.handoff import hand_off
from actions.tracker_view import latest_input_kind

MAX_SUGGESTIONS = 3
HANDOFF_AFTER = 3

_FIRST_LINE = {
    "empty": "Ik zie geen tekst in je bericht.",
    "no_text": "Ik zie geen woorden in je bericht.",
    "emoji_only": "Emoji's begrijp ik nog niet goed.",
}


def suggestions(tracker: Tracker) -> List[Dict[str, str]]:
    """Buttons for the likeliest knowledge topics in the classifier's ranking."""
    topics = knowledge()
    ranking = (tracker.latest_message or {}).get("intent_ranking") or []
    buttons = []
    for item in ranking:
        topic = topics.get(item.get("name") or "")
        if topic:
            buttons.append({"title": topic.title, "payload": f"/{topic.intent}"})
        if len(buttons) == MAX_SUGGESTIONS:
            break
    return buttons


class ActionHandleFallback(Action):
    """Handles nlu_fallback kindly and escalates to a person when it keeps happening."""

    def name(self) -> str:
        return "action_handle_fallback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> List[EventType]:
        count = int(tracker.get_slot("fallback_count") or 0) + 1
        events: List[EventType] = [SlotSet("fallback_count", float(count))]
        first_line = _FIRST_LINE.get(latest_input_kind(tracker), "Sorry, dat begreep ik niet helemaal.")
        if count >= HANDOFF_AFTER:
            dispatcher.utter_message(text=f"{first_line} Ik laat je nu helpen door een medewerker.")
            return events + hand_off(dispatcher, tracker, "misunderstanding")
        if count == 2:
            dispatcher.utter_message(
                text=f"{first_line} Het lukt me niet goed om je te begrijpen. Wil je met een medewerker praten?",
                buttons=[
                    {"title": "Ja, met een medewerker", "payload": "/request_human"},
                    {"title": "Nee, ik probeer het opnieuw", "payload": "/deny"},
                ],
            )
            return events
        buttons = suggestions(tracker)
        if buttons:
            text = f"{first_line} Kun je het in andere woorden zeggen? Of gaat het over een van deze onderwerpen?"
        else:
            text = (
                f"{first_line} Kun je het in andere woorden zeggen? "
                "Schrijf bijvoorbeeld: 'ik heb schulden' of 'kan ik huurtoeslag krijgen'."
            )
        dispatcher.utter_message(text=text, buttons=buttons)
        return events
