"""The question behind the question: triage slots, the triage form, summary and next steps."""

from __future__ import annotations

import re
from typing import Any, Dict, List

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.content import gemeente, knowledge
from actions.tracker_view import citizen_words, latest_triage, mentioned_entities
from baken_core import help_offers
from baken_core.summary import TriageRecord, build_summary, lowest_score
from baken_core.text import fold
from baken_core.zrm import DOMAINS, SCALE, highest_urgency, ordered_domains

MAX_DOMAIN_QUESTIONS = 4
MAX_ANSWER_CHARS = 500
EIGEN_KRACHT_SLOTS = ["eigen_kracht_tried", "eigen_kracht_network"]

# Typed answers to a ZRM question, checked in this order (the first match wins).
_TYPED_SCORES: List[tuple[re.Pattern[str], int]] = [
    (re.compile(r"geen (zorgen|problemen|probleem)|niks aan de hand|niets aan de hand"), 5),
    (re.compile(r"helemaal mis|acuut|nu hulp|gaat mis|loopt vast|ramp|vreselijk"), 1),
    (
        re.compile(
            r"niet goed|lukt (me |mij )?niet|niet alleen|slecht|moeilijk|zwaar|niet betalen|kan (het )?niet"
            r"|probleem|problemen|zorgen|achterstand|schulden"
        ),
        2,
    ),
    (re.compile(r"maar net|met moeite|zo ?zo|gaat wel|matig|soms|beetje"), 3),
    (re.compile(r"redelijk|best oke|best ok|valt mee|ok\b|oke|oké"), 4),
    (re.compile(r"goed|geen zorgen|geen probleem|prima|n\.?v\.?t|niet van toepassing"), 5),
]


def zrm_slot(slug: str) -> str:
    return f"zrm_{slug}"


def score_from_answer(value: Any) -> int | None:
    """A ZRM score 1–5 from a button payload or a typed answer; None when unclear."""
    if value is None:
        return None
    text = fold(str(value))
    if text in {"1", "2", "3", "4", "5"}:
        return int(text)
    for pattern, score in _TYPED_SCORES:
        if pattern.search(text):
            return score
    return None


def collected_scores(tracker: Tracker) -> Dict[str, int]:
    scores: Dict[str, int] = {}
    for slug in DOMAINS:
        score = score_from_answer(tracker.get_slot(zrm_slot(slug)))
        if score is not None:
            scores[slug] = score
    return scores


def domains_to_ask(tracker: Tracker) -> List[str]:
    """Financiën first (Baken's field), then the domains the conversation showed, capped."""
    seen = ordered_domains(tracker.get_slot("triage_domains") or [])
    chosen = ["financien"] + [d for d in seen if d != "financien"]
    return chosen[:MAX_DOMAIN_QUESTIONS]


def triage_record(tracker: Tracker) -> TriageRecord:
    titles = {intent: topic.title for intent, topic in knowledge().items()}
    return TriageRecord(
        urgency=str(tracker.get_slot("triage_urgency") or "normal"),
        domains=ordered_domains(tracker.get_slot("triage_domains") or []),
        scores=collected_scores(tracker),
        tried=tracker.get_slot("eigen_kracht_tried"),
        network=tracker.get_slot("eigen_kracht_network"),
        answered=[titles.get(t, t) for t in tracker.get_slot("answered_topics") or []],
        citizen_words=citizen_words(tracker),
        mentioned=mentioned_entities(tracker),
    )


class ActionUpdateTriage(Action):
    """Custom slot mapping run after every message: accumulate domains and highest urgency."""

    def name(self) -> str:
        return "action_update_triage"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> List[EventType]:
        triage = latest_triage(tracker)
        known = ordered_domains(tracker.get_slot("triage_domains") or [])
        merged = ordered_domains(known + list(triage.get("domains") or []))
        current = str(tracker.get_slot("triage_urgency") or "normal")
        urgency = highest_urgency(current, triage.get("urgency"))
        events: List[EventType] = []
        if merged != known:
            events.append(SlotSet("triage_domains", merged))
        if urgency != current:
            events.append(SlotSet("triage_urgency", urgency))
        return events


class ValidateTriageForm(FormValidationAction):
    """Chooses the questions of the triage form and validates the answers."""

    def name(self) -> str:
        return "validate_triage_form"

    async def required_slots(
        self,
        domain_slots: List[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> List[str]:
        return [zrm_slot(slug) for slug in domains_to_ask(tracker)] + EIGEN_KRACHT_SLOTS

    def _validate_score(self, value: Any, slot: str, dispatcher: CollectingDispatcher) -> Dict[str, Any]:
        score = score_from_answer(value)
        if score is None:
            dispatcher.utter_message(response="utter_zrm_choose_button")
            return {slot: None}
        return {slot: str(score)}

    async def validate_eigen_kracht_tried(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        return {"eigen_kracht_tried": _clean_answer(value)}

    async def validate_eigen_kracht_network(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[str, Any]:
        return {"eigen_kracht_network": _clean_answer(value)}


def _clean_answer(value: Any) -> str | None:
    text = " ".join(str(value or "").split())
    if not text:
        return None
    return text if len(text) <= MAX_ANSWER_CHARS else text[: MAX_ANSWER_CHARS - 1] + "…"


def _make_score_validator(slug: str) -> Any:
    slot = zrm_slot(slug)

    async def validate(
        self: ValidateTriageForm,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> Dict[str, Any]:
        return self._validate_score(value, slot, dispatcher)

    return validate


for _slug in DOMAINS:
    setattr(ValidateTriageForm, f"validate_{zrm_slot(_slug)}", _make_score_validator(_slug))


class ActionTriageSummary(Action):
    """Writes the worker summary and tells the citizen, briefly, what was noted."""

    def name(self) -> str:
        return "action_triage_summary"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> List[EventType]:
        record = triage_record(tracker)
        noted = [f"{DOMAINS[slug]}: {SCALE[score]}" for slug, score in record.scores.items()]
        if noted:
            dispatcher.utter_message(
                text=(
                    "Dank je wel. Dit heb ik genoteerd, zodat een medewerker het meteen kan lezen en je "
                    "je verhaal niet opnieuw hoeft te vertellen:\n" + "\n".join(f"• {line}" for line in noted)
                )
            )
        return [SlotSet("triage_summary", build_summary(record)), SlotSet("triage_done", True)]


class ActionOfferNextSteps(Action):
    """Offers the next step: a worker, informal help or self-help; a worker first when needed."""

    def name(self) -> str:
        return "action_offer_next_steps"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> List[EventType]:
        urgency = str(tracker.get_slot("triage_urgency") or "normal")
        worst = lowest_score(collected_scores(tracker))
        worker = {"title": "Praat met een medewerker", "payload": "/request_human"}
        informal = {"title": "Hulp van vrijwilligers of uit de buurt", "payload": "/choose_informal_help"}
        self_help = {"title": "Zelf aan de slag", "payload": "/choose_self_help"}
        if urgency in ("urgent", "crisis") or (worst is not None and worst <= 2):
            text = (
                "Wat je vertelt is te veel om alleen op te lossen. Ik raad je aan om met een "
                "medewerker te praten; die kan je snel verder helpen. Je kunt ook eerst hulp van "
                "een vrijwilliger vragen, of zelf beginnen."
            )
            buttons = [worker, informal, self_help]
        elif _network(tracker) == "nobody":  # eigen kracht: nobody around them helps now
            text = (
                "Wat wil je nu doen? Je hoeft het niet alleen te doen. Vrijwilligers en groepen in de "
                "buurt helpen graag. Je kunt ook zelf aan de slag, of met een medewerker praten."
            )
            buttons = [informal, self_help, worker]
        else:
            text = (
                "Wat wil je nu doen? Je kunt zelf aan de slag met tips en links, hulp krijgen van "
                "een vrijwilliger of een groep in de buurt, of met een medewerker praten."
            )
            buttons = [self_help, informal, worker]
        dispatcher.utter_message(text=text, buttons=buttons)
        return []


class ActionGiveSelfHelp(Action):
    """Self-help: the official links for what was discussed, the Geldfit test and the gemeente."""

    def name(self) -> str:
        return "action_give_self_help"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> List[EventType]:
        topics = knowledge()
        lines = ["Zo kun je zelf verder:"]
        for intent in tracker.get_slot("answered_topics") or []:
            topic = topics.get(intent)
            if topic:
                lines.append(f"• {topic.title}: {topic.link}")
        lines.append("• Doe de gratis geldtest op https://www.geldfit.nl, of bel Geldfit gratis en anoniem: 0800-8115.")
        lines.append("• Geldzaken op een rij zetten: https://www.nibud.nl")
        schuldhulp = (gemeente().get("links") or {}).get("schuldhulp")
        if schuldhulp:
            lines.append(f"• Schuldhulp van {gemeente()['name']}: {schuldhulp}")
        lines.append("Lukt het toch niet alleen? Kom gerust terug, dan verbind ik je door met een medewerker.")
        dispatcher.utter_message(text="\n".join(lines))
        return []


class ActionGiveInformalHelp(Action):
    """Informal and group help beside formal help (data/knowledge/informal_help.yml), for the
    person's life domains and in line with their own strengths: what they tried and who can
    help them (eigen kracht). Group offers first when nobody around them helps (collectief);
    a worker first when it is urgent. Fictional Gemeente Voorbeeld offers say "(voorbeeld)"."""

    def name(self) -> str:
        return "action_give_informal_help"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> List[EventType]:
        for text in informal_help_messages(tracker):
            dispatcher.utter_message(text=text)
        return []


_NOBODY = re.compile(r"^(nee|geen|niemand|niks|nee niemand)\b|\b(niemand|geen idee|sta er alleen voor|ben alleen)\b")


def _network(tracker: Tracker) -> str:
    """ "someone", "nobody" or "" (not asked or not answered), from the eigen kracht answer."""
    answer = fold(str(tracker.get_slot("eigen_kracht_network") or "")).strip()
    if not answer:
        return ""
    return "nobody" if _NOBODY.search(answer) else "someone"


def offer_line(offer: help_offers.Offer) -> str:
    links = gemeente().get("links") or {}
    link = (links.get(offer.link_from_gemeente) if offer.link_from_gemeente else None) or offer.link
    name = offer.name + (" (voorbeeld)" if offer.example else "")
    return f"• {name}: {offer.text}" + (f" {link}" if link else "")


def informal_help_messages(tracker: Tracker) -> List[str]:
    """The messages of the informal-help step (see ActionGiveInformalHelp)."""
    domains = ordered_domains(tracker.get_slot("triage_domains") or [])
    urgency = str(tracker.get_slot("triage_urgency") or "normal")
    network = _network(tracker)
    offers = help_offers.for_domains(domains)
    personal = [offer_line(o) for o in offers if not o.group]
    groups = [offer_line(o) for o in offers if o.group]
    intro: List[str] = []
    if urgency in ("urgent", "crisis"):
        intro.append("Wat je vertelt is dringend. Praat daarom ook met een medewerker. Dat kan naast deze hulp.")
    if tracker.get_slot("eigen_kracht_tried"):
        intro.append("Je hebt zelf al iets geprobeerd. Daar kun je op verder bouwen.")
    if network == "someone":
        intro.append("Je noemde iemand die kan helpen. Vraag die persoon gerust om mee te denken of mee te gaan.")
    elif network == "nobody":
        intro.append("Je staat er niet alleen voor. Hier ontmoet je mensen die hetzelfde meemaken.")
    messages: List[str] = []
    personal_text = "\n".join(["Hulp van vrijwilligers, naast de gemeente:", *personal]) if personal else ""
    group_text = "\n".join(["Samen met anderen, in de buurt:", *groups]) if groups else ""
    ordered = [group_text, personal_text] if network == "nobody" else [personal_text, group_text]
    ordered = [t for t in ordered if t]
    if intro and ordered:
        ordered[0] = " ".join(intro) + "\n" + ordered[0]
    elif intro:
        ordered = [" ".join(intro)]
    messages.extend(ordered)
    closing = "Wil je toch met een medewerker praten? Zeg het maar."
    if network == "":
        closing = "Ook iemand uit je buurt, familie, kerk of moskee kan soms helpen. " + closing
    messages.append(closing)
    return messages
