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

from pathlib import Path
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
from baken_nlu import fast_load
from baken_nlu.crisis_model import CrisisModel
from baken_nlu.vocabulary import dutch_words, has_dutch_word

# Rasa resolves every component class before it loads any, so this is in place before
# DIET and TED are loaded: models load in half the time (see baken_nlu/fast_load.py).
fast_load.install()

FALLBACK_INTENT = "nlu_fallback"
FOREIGN_INTENT = "foreign_language"


def _warm_up() -> None:
    """Load the rules and the word list now, not on the first citizen message."""
    default_rules()
    dutch_words()


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class TriageAnnotator(GraphComponent):
    """Adds input check and triage to each message; overrides the intent for crisis."""

    MODEL_FILE = "crisis_model.json"

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {
            # Below this confidence, a message without a single Dutch word is not understood.
            "gibberish_max_confidence": 0.8,
            # The sentence-level crisis classifier alone calls a crisis from this score on ...
            "crisis_sentence_threshold": 0.7,
            # ... and together with the intent classifier from these two (both must hold):
            # a heavy but safe message often reaches one of them, rarely both (issue 12).
            "crisis_joint_sentence_threshold": 0.7,
            "crisis_joint_intent_threshold": 0.0,
        }

    def __init__(
        self,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        crisis_model: CrisisModel | None = None,
    ) -> None:
        self.gibberish_max_confidence = float(config["gibberish_max_confidence"])
        self.crisis_threshold = float(config["crisis_sentence_threshold"])
        self.joint_sentence_threshold = float(config["crisis_joint_sentence_threshold"])
        self.joint_intent_threshold = float(config["crisis_joint_intent_threshold"])
        self._model_storage = model_storage
        self._resource = resource
        self.crisis_model = crisis_model

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> TriageAnnotator:
        _warm_up()
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        """Train the sentence-level crisis classifier on the crisis examples against all others."""
        examples = [e for e in training_data.intent_examples if e.get(TEXT) and e.get(INTENT)]
        crisis = default_rules().crisis_intent
        if any(e.get(INTENT) == crisis for e in examples):
            self.crisis_model = CrisisModel.train(
                [e.get(TEXT) for e in examples], [e.get(INTENT) == crisis for e in examples]
            )
            with self._model_storage.write_to(self._resource) as directory:
                self.crisis_model.save(Path(directory) / self.MODEL_FILE)
        return self._resource

    @classmethod
    def load(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> TriageAnnotator:
        _warm_up()
        crisis_model = None
        try:
            with model_storage.read_from(resource) as directory:
                crisis_model = CrisisModel.load(Path(directory) / cls.MODEL_FILE)
        except (ValueError, FileNotFoundError):
            crisis_model = None  # trained without crisis examples: rules and DIET only
        return cls(config, model_storage, resource, crisis_model)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            self._annotate(message)
        return messages

    def _sentence_says_crisis(self, score: float, ranking: List[Dict[str, Any]]) -> bool:
        """The classifier alone, or the classifier and the intent ranking together."""
        if score >= self.crisis_threshold:
            return True
        crisis = default_rules().crisis_intent
        intent_score = max([float(r.get("confidence") or 0.0) for r in ranking if r.get("name") == crisis], default=0.0)
        return score >= self.joint_sentence_threshold and intent_score >= self.joint_intent_threshold

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
        if self.crisis_model is not None and verdict.kind in ("ok", "too_long"):
            score = self.crisis_model.score(verdict.text)
            result["crisis_score"] = round(score, 3)
            if triage.urgency != "crisis" and self._sentence_says_crisis(score, ranking):
                result["urgency"] = "crisis"
                result["signals"] = [*result["signals"], "classifier:sentence"]
        new_intent: str | None = None
        if result["urgency"] == "crisis":
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
