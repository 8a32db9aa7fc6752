"""Handing the conversation to a social worker's queue, with a summary.

The bot message carries a custom payload the desk acts on:

    {"handoff": {"reason": ..., "urgency": ..., "domains": [...], "summary": "..."}}

and the conversation is paused (Rasa's ConversationPaused) until the desk resumes it.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Dict, List

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ConversationPaused, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.content import gemeente
from actions.tracker_view import latest_triage, understood_intent
from actions.triage import triage_record
from baken_core.summary import build_summary
from baken_core.zrm import highest_urgency, ordered_domains

REASONS = ("crisis", "request_human", "triage", "misunderstanding")


def handoff_payload(tracker: Tracker, reason: str) -> Dict[str, Any]:
    """The payload for the desk; urgency is the highest seen, crisis for a crisis handoff."""
    record = triage_record(tracker)
    urgency = highest_urgency(record.urgency, latest_triage(tracker).get("urgency"))
    if reason == "crisis":
        urgency = "crisis"
    domains = ordered_domains(list(record.domains) + list(latest_triage(tracker).get("domains") or []))
    summary = build_summary(replace(record, urgency=urgency, domains=domains))
    return {"handoff": {"reason": reason, "urgency": urgency, "domains": domains, "summary": summary}}


def handoff_reason(tracker: Tracker) -> str:
    triage = latest_triage(tracker)
    if understood_intent(tracker) == "report_crisis" or triage.get("urgency") == "crisis":
        return "crisis"
    if tracker.get_slot("triage_done"):
        return "triage"
    return "request_human"


def hand_off(dispatcher: CollectingDispatcher, tracker: Tracker, reason: str) -> List[EventType]:
    """Tell the citizen, send the payload, pause the bot. Shared by the fallback action."""
    payload = handoff_payload(tracker, reason)
    hours = (gemeente().get("opening_hours") or {}).get("text")
    if payload["handoff"]["urgency"] == "crisis":
        # no "neemt over": at night nobody can; the desk says when someone reads it
        text = "Je gesprek staat bovenaan de rij bij onze medewerkers."
    else:
        text = (
            "Ik geef je gesprek door aan een medewerker. Je hoeft je verhaal niet opnieuw te "
            "vertellen: de medewerker leest mee wat je mij hebt verteld."
        )
    if hours:
        text += f" Medewerkers zijn er {hours}; daarbuiten lezen ze je bericht zo snel mogelijk."
    dispatcher.utter_message(text=text, json_message=payload)
    return [SlotSet("handoff_reason", reason), ConversationPaused()]


class ActionHandoff(Action):
    """Queues the conversation for a worker with a triage summary, and pauses the bot."""

    def name(self) -> str:
        return "action_handoff"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> List[EventType]:
        return hand_off(dispatcher, tracker, handoff_reason(tracker))
