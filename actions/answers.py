"""Practical answers to benefit and debt questions, and the check-in that follows them."""

from __future__ import annotations

from typing import Any, Dict, List

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.content import Topic, gemeente_contact_lines, knowledge
from actions.tracker_view import latest_triage, understood_intent

CHECK_IN_BUTTONS = [
    {"title": "Ja, er speelt meer", "payload": "/affirm"},
    {"title": "Nee, dank je", "payload": "/deny"},
]


def render_topic(topic: Topic) -> str:
    """The answer as the citizen reads it: plain text, with source and date."""
    parts = [
        topic.answer,
        "",
        f"Voor wie: {topic.for_whom}",
        f"Wie regelt het: {topic.provider}",
        f"Zo vraag je het aan: {topic.how_to_apply}",
    ]
    for fact in topic.facts:
        parts.append(f"• {fact.text} (bron: {fact.source}, {fact.year})")
    if topic.local:
        parts += ["", *gemeente_contact_lines()]
    parts += [
        "",
        f"Meer informatie: {topic.link_title} – {topic.link}",
        f"(Informatie gecontroleerd op {topic.checked_on}.)",
    ]
    return "\n".join(parts)


WGS_SITUATIONS = {
    "eviction": "er een huisuitzetting dreigt",
    "utility_cut_off": "je gas, stroom of water wordt afgesloten",
    "health_insurance_cancelled": "je zorgverzekering is opgezegd",
}
"""Triage rules (data/triage/rules.yml) that show a bedreigende situatie of the Wgs."""


class ActionAnswerQuestion(Action):
    """Answers the understood benefit or debt question from the knowledge base."""

    def name(self) -> str:
        return "action_answer_question"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> List[EventType]:
        intent = understood_intent(tracker)
        topic = knowledge().get(intent or "")
        if topic is None:
            dispatcher.utter_message(response="utter_default")
            return []
        urgency = latest_triage(tracker).get("urgency") or tracker.get_slot("triage_urgency")
        signals = set(latest_triage(tracker).get("signals") or [])
        if topic.urgent and urgency in ("urgent", "crisis") and signals & set(WGS_SITUATIONS):
            # Only a Wgs bedreigende situatie (eviction, a cut-off announced or done, a cancelled
            # health insurance; facts.md §2) gets the 3-werkdagen line, and it starts when the
            # citizen reports to the gemeente. An energy company's signal alone is not one.
            situation = WGS_SITUATIONS[sorted(signals & set(WGS_SITUATIONS))[0]]
            dispatcher.utter_message(
                text=(
                    f"Dit is dringend. Meld je bij de gemeente voor schuldhulp en zeg dat {situation}. "
                    "Dan moet de gemeente binnen 3 werkdagen na je aanmelding een eerste gesprek met je hebben."
                )
            )
        dispatcher.utter_message(text=render_topic(topic))
        answered = list(tracker.get_slot("answered_topics") or [])
        if topic.intent not in answered:
            answered.append(topic.intent)
        return [
            SlotSet("answered_topics", answered),
            SlotSet("last_topic", topic.intent),
            SlotSet("fallback_count", 0.0),
        ]


class ActionCheckIn(Action):
    """After an answer: a short, respectful question about the question behind the question.

    Urgent situations offer a worker first. After a triage it no longer asks again.
    """

    def name(self) -> str:
        return "action_check_in"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> List[EventType]:
        urgent = tracker.get_slot("triage_urgency") in ("urgent", "crisis")
        if tracker.get_slot("triage_done"):
            dispatcher.utter_message(
                text="Wil je hierover met een medewerker praten?",
                buttons=[
                    {"title": "Ja, met een medewerker", "payload": "/request_human"},
                    {"title": "Nee, dank je", "payload": "/deny"},
                ],
            )
        elif urgent:
            dispatcher.utter_message(
                text=(
                    "Omdat het dringend is, kan een medewerker met je meekijken. "
                    "Wil je dat? Of speelt er nog meer dat je eerst wilt vertellen?"
                ),
                buttons=[
                    {"title": "Ja, een medewerker graag", "payload": "/request_human"},
                    {"title": "Er speelt nog meer", "payload": "/affirm"},
                    {"title": "Nee, dank je", "payload": "/deny"},
                ],
            )
        else:
            dispatcher.utter_message(
                text=(
                    "Geldzorgen komen vaak niet alleen. Speelt er nog meer, bijvoorbeeld met je "
                    "woning, werk, gezondheid of thuis? Dan kijk ik met je mee. Het mag ook niet."
                ),
                buttons=CHECK_IN_BUTTONS,
            )
        return []
