from __future__ import annotations

import asyncio

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.triage import (
    ActionOfferNextSteps,
    ActionTriageSummary,
    ActionUpdateTriage,
    ValidateTriageForm,
    score_from_answer,
)
from tests.actions.conftest import make_tracker, run_action


def test_slots_accumulate_domains_and_keep_the_highest_urgency() -> None:
    tracker = make_tracker(
        slots={"triage_domains": ["huisvesting"], "triage_urgency": "urgent"},
        triage={"domains": ["financien", "sociaal_netwerk"], "urgency": "normal"},
    )
    _, events = run_action(ActionUpdateTriage(), tracker)
    values = {e["name"]: e["value"] for e in events}
    assert values == {"triage_domains": ["financien", "huisvesting", "sociaal_netwerk"]}
    _, events = run_action(
        ActionUpdateTriage(), make_tracker(slots={"triage_urgency": "urgent"}, triage={"urgency": "crisis"})
    )
    assert {e["name"]: e["value"] for e in events} == {"triage_urgency": "crisis"}


@pytest.mark.parametrize(
    ("answer", "score"),
    [
        ("1", 1),
        ("5", 5),
        ("het gaat helemaal mis", 1),
        ("lukt me niet alleen", 2),
        ("niet goed", 2),
        ("lukt maar net", 3),
        ("gaat redelijk", 4),
        ("geen zorgen hoor", 5),
        ("goed", 5),
        ("banaan", None),
        (None, None),
    ],
)
def test_typed_answers_map_to_the_zrm_scale(answer: str | None, score: int | None) -> None:
    assert score_from_answer(answer) == score


def test_form_asks_financien_first_then_what_the_conversation_showed() -> None:
    tracker = make_tracker(
        slots={"triage_domains": ["huisvesting", "geestelijke_gezondheid", "financien", "justitie", "sociaal_netwerk"]}
    )
    slots = asyncio.run(ValidateTriageForm().required_slots([], CollectingDispatcher(), tracker, {}))
    assert slots == [
        "zrm_financien",
        "zrm_huisvesting",
        "zrm_geestelijke_gezondheid",
        "zrm_sociaal_netwerk",
        "eigen_kracht_tried",
        "eigen_kracht_network",
    ]


def test_unclear_answer_is_asked_again() -> None:
    dispatcher = CollectingDispatcher()
    validate = ValidateTriageForm().validate_zrm_financien
    result = asyncio.run(validate("banaan", dispatcher, make_tracker(), {}))
    assert result == {"zrm_financien": None}
    assert dispatcher.messages[0]["response"] == "utter_zrm_choose_button"
    assert asyncio.run(validate("2", CollectingDispatcher(), make_tracker(), {})) == {"zrm_financien": "2"}


def test_summary_is_stored_for_the_worker_and_shown_to_the_citizen() -> None:
    tracker = make_tracker(
        slots={
            "zrm_financien": "2",
            "zrm_huisvesting": "3",
            "eigen_kracht_tried": "gebeld",
            "triage_urgency": "normal",
            "triage_domains": ["financien", "huisvesting"],
            "answered_topics": ["report_schulden"],
        },
        text="ik heb schulden",
    )
    messages, events = run_action(ActionTriageSummary(), tracker)
    assert "Financiën: niet zelfredzaam" in messages[0]["text"]
    summary = next(e["value"] for e in events if e["name"] == "triage_summary")
    assert "Financiën: 2 – niet zelfredzaam" in summary and '"ik heb schulden"' in summary
    assert {"event": "slot", "timestamp": None, "name": "triage_done", "value": True} in events


def test_next_steps_put_a_worker_first_when_it_is_serious() -> None:
    serious, _ = run_action(ActionOfferNextSteps(), make_tracker(slots={"zrm_financien": "1"}))
    assert serious[0]["buttons"][0]["payload"] == "/request_human"
    calm, _ = run_action(ActionOfferNextSteps(), make_tracker(slots={"zrm_financien": "4"}))
    assert calm[0]["buttons"][0]["payload"] == "/choose_self_help"
