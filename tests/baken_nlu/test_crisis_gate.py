"""The crisis decision of the sentence classifier in TriageAnnotator: alone from one score,
together with the intent ranking from two lower ones (issue 12: heavy but safe messages
often reach one signal, rarely both)."""

from __future__ import annotations

from typing import Any, Dict

import pytest

from baken_nlu.components import TriageAnnotator


def annotator(**config: float) -> TriageAnnotator:
    merged: Dict[str, Any] = {**TriageAnnotator.get_default_config(), **config}
    return TriageAnnotator(merged, model_storage=None, resource=None)


def ranking(crisis: float) -> list[dict[str, Any]]:
    return [{"name": "express_stress", "confidence": 1.0 - crisis}, {"name": "report_crisis", "confidence": crisis}]


@pytest.mark.parametrize(
    ("score", "intent", "expected"),
    [
        (0.95, 0.0, True),  # the classifier alone, very sure
        (0.80, 0.30, True),  # both signals
        (0.80, 0.10, False),  # the classifier fairly sure, the intent ranking not
        (0.60, 0.90, False),  # below the joint sentence threshold (the intent itself is assess()'s part)
    ],
)
def test_alone_or_together(score: float, intent: float, expected: bool) -> None:
    gate = annotator(
        crisis_sentence_threshold=0.9, crisis_joint_sentence_threshold=0.7, crisis_joint_intent_threshold=0.25
    )
    assert gate._sentence_says_crisis(score, ranking(intent)) is expected


def test_defaults_keep_the_single_threshold() -> None:
    gate = annotator()
    assert gate._sentence_says_crisis(0.7, []) is True
    assert gate._sentence_says_crisis(0.69, ranking(1.0)) is False


def test_the_replay_counts_caught_crisis_and_false_alarms() -> None:
    """benchmarks/crisis_gate.py: rules always count; the model signals by the gate's thresholds."""
    from benchmarks.crisis_gate import Gate, evaluate

    rows = [
        {"text": "ik wil er niet meer zijn", "gold_urgency": "crisis", "ranking": [], "crisis_score": 0.1},
        {
            "text": "het gaat niet goed",
            "gold_urgency": "crisis",
            "ranking": [["express_stress", 0.5], ["report_crisis", 0.25]],
            "crisis_score": 0.65,
        },
        {
            "text": "ik schaam me zo",
            "gold_urgency": "normal",
            "ranking": [["express_stress", 0.9]],
            "crisis_score": 0.8,
        },
        {
            "text": "hoe vraag ik huurtoeslag aan",
            "gold_urgency": "normal",
            "ranking": [["ask_huurtoeslag", 0.9]],
            "crisis_score": 0.0,
        },
    ]
    old = evaluate(rows, Gate(0.3, 0.7, 0.7, 0.0))
    assert (old.caught, old.crisis, old.false_alarms, old.others) == (1, 2, 1, 2)
    assert old.missed == ["het gaat niet goed"]
    new = evaluate(rows, Gate(0.3, 0.9, 0.6, 0.2))
    assert (new.caught, new.false_alarms, new.missed) == (2, 0, [])
