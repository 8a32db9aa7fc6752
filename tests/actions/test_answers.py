from __future__ import annotations

import re

import pytest
import yaml

from actions.answers import ActionAnswerQuestion, ActionCheckIn
from actions.content import knowledge
from baken_core.paths import PROJECT_ROOT
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


def test_urgent_situations_say_three_working_days() -> None:
    tracker = make_tracker(intent="report_afsluiting", triage={"urgency": "urgent", "domains": []})
    messages, _ = run_action(ActionAnswerQuestion(), tracker)
    assert messages[0]["text"].startswith("Dit is dringend") and "3 werkdagen" in messages[0]["text"]


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
