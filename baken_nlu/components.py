"""Rasa NLU component that adds Baken's input check and triage to every parse.

Placed after the intent classifier and the FallbackClassifier in config.yml. It

- adds `input_check` ({"kind": ...}) and `triage` ({"domains", "urgency", "signals"}) to
  the parse result, so the dialogue, `scripts/classify` and the desk all see them;
- decides crisis by recall: when the rules or the classifier's ranking signal a crisis, the
  intent becomes `report_crisis` (the original is kept in `triage.original_intent`), so the
  crisis rule in the dialogue always fires;
- turns empty input, and unsure guesses at text without one Dutch word, into
  `nlu_fallback`, and clearly foreign text into `foreign_language`.
"""

from __future__ import annotations

from typing import Any, Dict, List

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from baken_core.input_check import check_input
from baken_core.triage import assess, default_rules
from baken_nlu.vocabulary import dutch_words, has_dutch_word

FALLBACK_INTENT = "nlu_fallback"
FOREIGN_INTENT = "foreign_language"


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class TriageAnnotator(GraphComponent):
    """Adds input check and triage to each message; overrides the intent for crisis."""

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        # Below this confidence, a message without a single Dutch word is not understood.
        return {"gibberish_max_confidence": 0.8}

    def __init__(self, config: Dict[str, Any]) -> None:
        self.gibberish_max_confidence = float(config["gibberish_max_confidence"])

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> TriageAnnotator:
        default_rules()  # load the rules and the word list now, not on the first citizen message
        dutch_words()
        return cls(config)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            self._annotate(message)
        return messages

    def _annotate(self, message: Message) -> None:
        raw_text = message.get(TEXT) or ""
        verdict = check_input(raw_text)
        intent: Dict[str, Any] | None = message.get(INTENT)
        ranking: List[Dict[str, Any]] = message.get(INTENT_RANKING_KEY) or []
        intent_name = (intent or {}).get("name")
        understood = intent_name
        if intent_name == FALLBACK_INTENT and ranking:
            understood = ranking[0].get("name")

        triage = assess(verdict.text, understood, ranking)
        result = triage.as_dict()
        new_intent: str | None = None
        if triage.urgency == "crisis":
            new_intent = default_rules().crisis_intent
        elif verdict.kind in ("empty", "no_text"):
            new_intent = FALLBACK_INTENT
        elif verdict.kind == "foreign_language":
            new_intent = FOREIGN_INTENT
        elif (
            float((intent or {}).get("confidence") or 0.0) < self.gibberish_max_confidence
            and verdict.kind in ("ok", "too_long")
            and not has_dutch_word(verdict.text)
            and not message.get("entities")
        ):
            new_intent = FALLBACK_INTENT
        if new_intent and new_intent != intent_name:
            result["original_intent"] = intent_name
            confidence = max(
                [float(r.get("confidence") or 0.0) for r in ranking if r.get("name") == new_intent],
                default=1.0,
            )
            message.set(INTENT, {"name": new_intent, "confidence": confidence}, add_to_output=True)
        message.set("input_check", verdict.as_dict(), add_to_output=True)
        message.set("triage", result, add_to_output=True)
