"""The baken channel's exactly-once rule: an id the tracker already holds is answered from
the tracker (what the assistant said to it the first time), not processed again."""

from __future__ import annotations

from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from baken_nlu.channel import _heard, _parse_in, replayed, summarise_parse


def conversation() -> DialogueStateTracker:
    return DialogueStateTracker.from_events(
        "widget-1",
        [
            UserUttered("hallo", {"name": "greet", "confidence": 0.9}, message_id="desk-1"),
            BotUttered("Hoi! Waar kan ik je mee helpen?"),
            ActionExecuted("action_listen"),
            UserUttered(
                "ik wil niet meer leven",
                {"name": "report_crisis", "confidence": 0.8},
                parse_data={"intent": {"name": "report_crisis", "confidence": 0.8}, "triage": {"urgency": "crisis"}},
                message_id="desk-2",
            ),
            BotUttered("Bel 113.", data={"buttons": [{"title": "Ja", "payload": "/affirm"}]}),
            BotUttered(None, data={"custom": {"handoff": {"reason": "crisis"}}}),
            ActionExecuted("action_listen"),
            UserUttered("dank je", {"name": "thank"}, message_id="desk-3"),
            BotUttered("Graag gedaan."),
        ],
    )


def test_a_handled_id_is_recognised_and_an_unknown_one_is_not() -> None:
    tracker = conversation()
    assert _heard(tracker, "desk-2") and not _heard(tracker, "desk-4")


def test_the_replay_is_what_the_assistant_said_to_that_message_only() -> None:
    messages = replayed(conversation(), "desk-2")
    assert messages == [
        {"recipient_id": "widget-1", "text": "Bel 113.", "buttons": [{"title": "Ja", "payload": "/affirm"}]},
        {"recipient_id": "widget-1", "custom": {"handoff": {"reason": "crisis"}}},
    ]
    assert replayed(conversation(), "desk-3") == [{"recipient_id": "widget-1", "text": "Graag gedaan."}]
    assert replayed(conversation(), "desk-9") == []


def test_the_replayed_parse_is_the_first_one() -> None:
    parse = _parse_in(conversation(), "desk-2")
    assert parse is not None and parse["intent"] == "report_crisis" and parse["urgency"] == "crisis"


def test_the_desk_tests_stub_speaks_the_channels_parse() -> None:
    """The desk API tests' scripted assistant (tests/rasa_script.py) sends this channel's parse fields."""
    from tests.rasa_script import answer

    stubbed = answer("hoe vraag ik huurtoeslag aan", ["hoe vraag ik huurtoeslag aan"])["parse"]
    assert set(stubbed) == set(summarise_parse({}))
