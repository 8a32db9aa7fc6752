"""Practical answers to benefit and debt questions, and the check-in that follows them."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, Dict, List

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.content import Topic, gemeente, gemeente_contact_lines, gemeente_link, knowledge
from actions.tracker_view import entity_values, latest_triage, understood_intent
from baken_core.text import dutch_date

Message = Dict[str, Any]

CHECK_IN_BUTTONS = [
    {"title": "Ja, er speelt meer", "payload": "/affirm"},
    {"title": "Nee, dank je", "payload": "/deny"},
]


DETAIL = "meer"
"""The `detail` entity of the "Meer over …" button: the same intent, the details this time."""


def render_answer(topic: Topic, today: dt.date | None = None) -> list[Message]:
    """The answer as the citizen reads it, in three short messages: what it is, whether it
    is for you, what to do (with the link, a dated source and a "Meer over …" button)."""
    day = today or dt.date.today()
    source = topic.dated_source(day)
    said = f"Bron: {_where(source.where)} ({source.when})." if source and source.when else "Bron: zonder datum."
    todo = [f"Wat kun je doen? {topic.how_to_apply}"]
    if topic.local:
        own_page = gemeente_link(topic.local_link)
        if own_page:
            todo.append(f"Bij {gemeente().get('name') or 'je gemeente'}: {own_page}")
        todo.append(" ".join(gemeente_contact_lines()))
    todo += [
        f"Meer informatie: {topic.link_title}, {topic.link}",
        f"{said} Deze uitleg is bijgewerkt op {dutch_date(topic.checked_on)}.",
    ]
    more = {"title": f"Meer over: {topic.title}", "payload": f'/{topic.intent}{{"detail":"{DETAIL}"}}'}
    person = {"title": "Praat met een medewerker", "payload": "/request_human"}
    todo_message: Message = {"text": "\n".join(todo), "buttons": [person] if topic.unknown else [more]}
    if topic.next_step:  # the desk may offer a check-in later (handoff/store/followups.py)
        todo_message["json_message"] = {"next_step": True}
    return [{"text": topic.answer}, {"text": f"Is het voor jou? {topic.for_whom}"}, todo_message]


def render_details(topic: Topic, today: dt.date | None = None) -> str:
    """Behind the button: who arranges it, and the facts that are true today, with sources."""
    day = today or dt.date.today()
    lines = [f"Meer over: {topic.title}", f"Wie regelt het: {topic.provider}."]
    facts = topic.facts_on(day)
    lines += [f"• {fact.text} (bron: {_where(fact.source)}, {fact.year})" for fact in facts]
    if len(facts) < len(topic.facts):  # some stopped being true: say less, and where to look
        lines.append(f"Sommige bedragen en regels kunnen veranderd zijn. Kijk voor de nieuwste op {topic.link}.")
    return "\n".join(lines)


def _where(source: str) -> str:
    """A source as people read it: 'toeslagen.nl', not a long URL."""
    match = re.match(r"^(?:https?://)?(?:www\.)?([^/\s]+)", source)
    return match.group(1) if match and "." in match.group(1) else source


WGS_SITUATIONS = {
    "eviction": "er een huisuitzetting dreigt",
    "utility_cut_off": "je gas, stroom of water wordt afgesloten",
    "health_insurance_cancelled": "je zorgverzekering is opgezegd",
}
"""Triage rules (data/triage/rules.yml) that show a bedreigende situatie of the Wgs."""


def wgs_line(topic: Topic, tracker: Tracker) -> str | None:
    """The 3-werkdagen line, only for a Wgs bedreigende situatie (eviction, a cut-off
    announced or done, a cancelled health insurance; facts.md §2), and honest that it starts
    when the citizen reports to the gemeente. An energy company's signal alone is not one."""
    triage = latest_triage(tracker)
    urgency = triage.get("urgency") or tracker.get_slot("triage_urgency")
    situations = sorted(set(triage.get("signals") or []) & set(WGS_SITUATIONS))
    if not (topic.urgent and urgency in ("urgent", "crisis") and situations):
        return None
    return (
        f"Dit is dringend. Meld je bij de gemeente voor schuldhulp en zeg dat {WGS_SITUATIONS[situations[0]]}. "
        "Dan moet de gemeente binnen 3 werkdagen na je aanmelding een eerste gesprek met je hebben."
    )


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
        if DETAIL in entity_values(tracker, "detail"):
            dispatcher.utter_message(text=render_details(topic))
            return [SlotSet("last_topic", topic.intent)]
        messages = render_answer(topic)
        urgent_line = wgs_line(topic, tracker)
        if urgent_line:
            messages[0] = {**messages[0], "text": f"{urgent_line}\n\n{messages[0]['text']}"}
        for message in messages:
            dispatcher.utter_message(**message)
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
        if DETAIL in entity_values(tracker, "detail"):
            return []  # the details of an answer already checked in on
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
