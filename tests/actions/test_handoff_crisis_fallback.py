from __future__ import annotations

from actions.crisis import ActionCrisisResponse
from actions.fallback import ActionHandleFallback
from actions.handoff import ActionHandoff
from baken_core.crisis import CHILD, CRISIS_MESSAGE, CRISIS_MESSAGE_EN, is_crisis_reply
from tests.actions.conftest import make_tracker, run_action


def _payload(messages):
    return next(m["custom"]["handoff"] for m in messages if m.get("custom"))


def test_handoff_sends_payload_and_pauses() -> None:
    tracker = make_tracker(
        intent="request_human",
        text="ik wil een mens spreken",
        slots={
            "triage_domains": ["financien"],
            "triage_urgency": "urgent",
            "answered_topics": ["report_huurachterstand"],
        },
    )
    messages, events = run_action(ActionHandoff(), tracker)
    payload = _payload(messages)
    assert payload["reason"] == "request_human"
    assert payload["urgency"] == "urgent"
    assert payload["domains"] == ["financien"]
    assert "Huurachterstand" in payload["summary"] and '"ik wil een mens spreken"' in payload["summary"]
    assert events[-1]["event"] == "pause"


def test_handoff_after_triage_and_in_crisis() -> None:
    messages, _ = run_action(ActionHandoff(), make_tracker(intent="request_human", slots={"triage_done": True}))
    assert _payload(messages)["reason"] == "triage"
    messages, _ = run_action(
        ActionHandoff(),
        make_tracker(intent="report_crisis", triage={"urgency": "crisis", "domains": ["huiselijke_relaties"]}),
    )
    payload = _payload(messages)
    assert (payload["reason"], payload["urgency"], payload["domains"]) == ("crisis", "crisis", ["huiselijke_relaties"])


def test_crisis_response_gives_the_numbers() -> None:
    messages, events = run_action(ActionCrisisResponse(), make_tracker(intent="report_crisis"))
    assert messages[0]["text"] == CRISIS_MESSAGE
    assert len(messages) == 1
    assert events[0]["value"] == "crisis"


def test_the_assistants_crisis_reply_promises_no_person_and_names_the_kindertelefoon_for_a_child() -> None:
    triage = {"urgency": "crisis", "domains": [], "signals": ["violence_at_home", "writer_child"]}
    messages, _ = run_action(ActionCrisisResponse(), make_tracker(intent="report_crisis", triage=triage))
    text = messages[0]["text"]
    assert is_crisis_reply(text) and CHILD in text and "0800-0432" in text
    assert text.index("112") < text.index("0800-2000") < text.index("113")  # Veilig Thuis first for violence
    assert "neemt" not in CRISIS_MESSAGE and "nu met voorrang" not in CRISIS_MESSAGE


def test_crisis_in_another_language_gets_the_numbers_in_english_too() -> None:
    triage = {"urgency": "crisis", "domains": [], "signals": ["crisis_other_language"]}
    messages, _ = run_action(ActionCrisisResponse(), make_tracker(intent="report_crisis", triage=triage))
    assert [m["text"] for m in messages] == [CRISIS_MESSAGE, CRISIS_MESSAGE_EN]
    assert "113" in CRISIS_MESSAGE_EN and "0800-0113" in CRISIS_MESSAGE_EN and "0800-2000" in CRISIS_MESSAGE_EN


def test_fallback_rephrase_then_offer_then_handoff() -> None:
    ranking = [
        {"name": "nlu_fallback", "confidence": 0.4},
        {"name": "ask_beslag", "confidence": 0.3},
        {"name": "greet", "confidence": 0.1},
    ]
    first, events = run_action(ActionHandleFallback(), make_tracker(intent="nlu_fallback", ranking=ranking))
    assert (
        first[0]["buttons"] == [{"title": "Beslag en beslagvrije voet", "payload": "/ask_beslag"}]
        or first[0]["buttons"][0]["payload"] == "/ask_beslag"
    )
    assert events == [{"event": "slot", "timestamp": None, "name": "fallback_count", "value": 1.0}]
    second, _ = run_action(ActionHandleFallback(), make_tracker(intent="nlu_fallback", slots={"fallback_count": 1.0}))
    assert second[0]["buttons"][0]["payload"] == "/request_human"
    third, events = run_action(
        ActionHandleFallback(), make_tracker(intent="nlu_fallback", slots={"fallback_count": 2.0})
    )
    assert _payload(third)["reason"] == "misunderstanding"
    assert events[-1]["event"] == "pause"


def test_empty_message_gets_its_own_kind_words() -> None:
    messages, _ = run_action(ActionHandleFallback(), make_tracker(intent="nlu_fallback", input_kind="empty"))
    assert messages[0]["text"].startswith("Ik zie geen tekst")


def test_summary_names_creditors_and_amounts_once() -> None:
    tracker = make_tracker(intent="request_human", text="help")
    tracker.events = [
        {
            "event": "user",
            "text": "schuld bij het CJIB",
            "parse_data": {"entities": [{"entity": "creditor", "value": "CJIB"}]},
        },
        {
            "event": "user",
            "text": "en 300 euro bij cjib",
            "parse_data": {
                "entities": [{"entity": "creditor", "value": "cjib"}, {"entity": "amount", "value": "300 euro"}]
            },
        },
    ]
    messages, _ = run_action(ActionHandoff(), tracker)
    summary = _payload(messages)["summary"]
    assert "Instanties en schuldeisers: CJIB\n" in summary and "Bedragen: 300 euro" in summary
