from __future__ import annotations

import re

import pytest
import yaml

from actions.answers import ActionAnswerQuestion, ActionCheckIn
from actions.content import knowledge
from baken_core.paths import PROJECT_ROOT
from baken_core.triage import assess
from tests.actions.conftest import make_tracker, run_action

TOPIC_INTENTS = yaml.safe_load((PROJECT_ROOT / "domain" / "answers.yml").read_text())["intents"]


def test_every_benefit_and_debt_intent_has_a_knowledge_entry() -> None:
    assert set(TOPIC_INTENTS) == set(knowledge())


@pytest.mark.parametrize("intent", TOPIC_INTENTS)
def test_answer_shows_official_link_and_date(intent: str) -> None:
    messages, events = run_action(ActionAnswerQuestion(), make_tracker(intent=intent))
    text = "\n".join(m["text"] for m in messages if m.get("text"))
    topic = knowledge()[intent]
    assert topic.link in text
    assert f"gecontroleerd op {topic.checked_on}" in text
    assert {"event": "slot", "timestamp": None, "name": "answered_topics", "value": [intent]} in events


def test_every_amount_has_a_year_and_a_source() -> None:
    for topic in knowledge().values():
        for fact in topic.facts:
            assert 2000 <= fact.year <= 2030 and fact.source.startswith(("http", "www"))
        # an amount in the main answer text must be in a fact with year and source instead
        assert not re.search(r"€\s?\d", topic.answer), topic.intent


def run_text(text: str, intent: str) -> list[str]:
    """The answer to `text` understood as `intent`, with the triage the NLU would attach."""
    tracker = make_tracker(intent=intent, text=text, triage=assess(text, intent).as_dict())
    messages, _ = run_action(ActionAnswerQuestion(), tracker)
    return [m["text"] for m in messages if m.get("text")]


def test_an_announced_cut_off_is_urgent_with_the_honest_three_working_days_line() -> None:
    messages = run_text("eneco gaat volgende week mijn gas afsluiten", "report_afsluiting")
    assert messages[0].startswith("Dit is dringend")
    assert "3 werkdagen na je aanmelding" in messages[0] and "Meld je bij de gemeente" in messages[0]


def test_an_energy_companys_signal_alone_gets_no_wgs_promise() -> None:
    """facts.md §2 (SZW 2023): an eindeleveringssignaal is not per definitie a bedreigende situatie."""
    text = "ik kreeg een eindeleveringssignaal van mijn energieleverancier"
    assert assess(text, "report_afsluiting").urgency == "normal"
    messages = run_text(text, "report_afsluiting")
    assert not messages[0].startswith("Dit is dringend")
    assert "niet altijd" in "\n".join(messages)  # the answer says the 3 werkdagen may not apply


def test_urgency_without_a_wgs_situation_gets_no_three_working_days_line() -> None:
    tracker = make_tracker(intent="report_afsluiting", triage={"urgency": "urgent", "domains": [], "signals": []})
    messages, _ = run_action(ActionAnswerQuestion(), tracker)
    assert not messages[0]["text"].startswith("Dit is dringend")


def test_rent_arrears_without_eviction_threat_is_not_called_urgent() -> None:
    tracker = make_tracker(intent="report_huurachterstand", triage={"urgency": "normal", "domains": []})
    messages, _ = run_action(ActionAnswerQuestion(), tracker)
    assert not messages[0]["text"].startswith("Dit is dringend")


def test_local_topics_show_the_gemeente_contact() -> None:
    messages, _ = run_action(ActionAnswerQuestion(), make_tracker(intent="ask_bijzondere_bijstand"))
    assert "gemeente-voorbeeld.example" in messages[-1]["text"]


def test_unknown_intent_gets_the_default_reply_not_a_crash() -> None:
    messages, events = run_action(ActionAnswerQuestion(), make_tracker(intent="greet"))
    assert messages[0]["response"] == "utter_default" and events == []


def test_check_in_offers_a_worker_first_when_urgent() -> None:
    messages, _ = run_action(ActionCheckIn(), make_tracker(slots={"triage_urgency": "urgent"}))
    assert messages[0]["buttons"][0]["payload"] == "/request_human"
    calm, _ = run_action(ActionCheckIn(), make_tracker(slots={"triage_urgency": "normal"}))
    assert [b["payload"] for b in calm[0]["buttons"]] == ["/affirm", "/deny"]
    done, _ = run_action(ActionCheckIn(), make_tracker(slots={"triage_done": True}))
    assert "Speelt er" not in done[0]["text"]
