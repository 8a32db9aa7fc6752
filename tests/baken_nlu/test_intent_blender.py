"""The blended intent classifier: a linear model over n-grams and the sentence vector, mixed into DIET's ranking."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from rasa.engine.graph import ExecutionContext
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from baken_nlu.intent_blender import BlendedIntentClassifier, blend

EXAMPLES = {
    "ask_huurtoeslag": [
        "hoe vraag ik huurtoeslag aan",
        "krijg ik huurtoeslag",
        "huurtoeslag aanvragen",
        "recht op huurtoeslag?",
    ],
    "ask_deurwaarder": [
        "er staat een deurwaarder aan de deur",
        "brief van de deurwaarder",
        "wat mag een deurwaarder",
        "deurwaarder komt beslag leggen",
    ],
}


def vector(intent: str, noise: int) -> np.ndarray:
    """A stand-in sentence vector: one direction per intent, a little noise."""
    rng = np.random.default_rng(noise)
    base = np.zeros(16, dtype=np.float32)
    base[0 if intent == "ask_huurtoeslag" else 1] = 1.0
    return base + rng.normal(0, 0.05, 16).astype(np.float32)


def message(text: str, intent: str | None, vec: np.ndarray | None) -> Message:
    data = {TEXT: text}
    if intent:
        data[INTENT] = intent
    result = Message(data=data)
    if vec is not None:
        result.add_features(Features(vec.reshape(1, -1), FEATURE_TYPE_SENTENCE, TEXT, "usem"))
    return result


@pytest.fixture
def storage(tmp_path: Path) -> LocalModelStorage:
    return LocalModelStorage(tmp_path)


def trained(storage: LocalModelStorage, **config: float) -> tuple[BlendedIntentClassifier, Resource]:
    resource = Resource("blender")
    settings = {**BlendedIntentClassifier.get_default_config(), **config}
    component = BlendedIntentClassifier.create(settings, storage, resource, ExecutionContext(None, None))
    examples = [message(t, i, vector(i, n)) for i, texts in EXAMPLES.items() for n, t in enumerate(texts)]
    component.train(TrainingData(training_examples=examples))
    return component, resource


def test_blend_mixes_diet_and_regression_by_weight_best_first() -> None:
    ranking = [{"name": "a", "confidence": 0.8}, {"name": "b", "confidence": 0.2}]
    blended = blend(ranking, ["a", "b", "c"], np.array([0.1, 0.3, 0.6]), weight=0.5)
    assert [r["name"] for r in blended] == ["a", "c", "b"]
    assert blended[0]["confidence"] == pytest.approx(0.45)
    assert blended[1]["confidence"] == pytest.approx(0.30)
    assert sum(r["confidence"] for r in blended) == pytest.approx(1.0)


def test_the_regression_overrules_an_unsure_diet_and_survives_save_and_load(storage: LocalModelStorage) -> None:
    component, resource = trained(storage)
    diet_unsure = [{"name": "ask_huurtoeslag", "confidence": 0.55}, {"name": "ask_deurwaarder", "confidence": 0.45}]
    parse = message("de deurwaarder stuurde een brief", None, vector("ask_deurwaarder", 99))
    parse.set(INTENT, dict(diet_unsure[0]))
    parse.set(INTENT_RANKING_KEY, diet_unsure)
    component.process([parse])
    assert parse.get(INTENT)["name"] == "ask_deurwaarder"
    assert parse.get(INTENT_RANKING_KEY)[0] == parse.get(INTENT)

    loaded = BlendedIntentClassifier.load(
        BlendedIntentClassifier.get_default_config(),
        storage,
        resource,
        ExecutionContext(None, None),
    )
    assert component.model is not None and loaded.model is not None
    texts = ["huurtoeslag aanvragen kan dat", "deurwaarder aan de deur"]
    vectors = np.stack([vector("ask_huurtoeslag", 7), vector("ask_deurwaarder", 8)])
    assert np.allclose(
        loaded.model.probabilities(texts, vectors), component.model.probabilities(texts, vectors), atol=1e-5
    )


def test_weight_zero_leaves_diets_choice(storage: LocalModelStorage) -> None:
    component, _ = trained(storage, weight=0.0)
    ranking = [{"name": "ask_huurtoeslag", "confidence": 0.9}, {"name": "ask_deurwaarder", "confidence": 0.1}]
    parse = message("deurwaarder", None, vector("ask_deurwaarder", 5))
    parse.set(INTENT, dict(ranking[0]))
    parse.set(INTENT_RANKING_KEY, ranking)
    component.process([parse])
    assert parse.get(INTENT) == {"name": "ask_huurtoeslag", "confidence": 0.9}


def test_training_without_sentence_vectors_says_which_featurizer_is_missing(storage: LocalModelStorage) -> None:
    component = BlendedIntentClassifier.create(
        BlendedIntentClassifier.get_default_config(),
        storage,
        Resource("x"),
        ExecutionContext(None, None),
    )
    with pytest.raises(ValueError, match="SentenceEncoderFeaturizer"):
        component.train(
            TrainingData(training_examples=[message("hoi", "greet", None), message("doei", "goodbye", None)])
        )


def test_the_cache_key_changes_with_the_tfidf_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Rasa's training cache sees config.yml and the data; the TF-IDF settings live in the code."""
    import baken_nlu.intent_blender as blender

    before = BlendedIntentClassifier.fingerprint_addon({})
    changed = {**blender._VECTORIZERS, "char": {**blender._VECTORIZERS["char"], "ngram_range": (2, 6)}}
    monkeypatch.setattr(blender, "_VECTORIZERS", changed)
    assert BlendedIntentClassifier.fingerprint_addon({}) != before


@pytest.mark.parametrize("n_classes", [2, 5])
def test_the_split_solver_finds_scikit_learns_regression(n_classes: int) -> None:
    """fit_softmax solves LogisticRegression's problem (multinomial, ||W||²/2C, bias not penalised), with the
    n-gram block and the dense vectors kept apart: the same probabilities on unseen rows."""
    import scipy.sparse as sp
    from sklearn.linear_model import LogisticRegression

    from baken_nlu.intent_blender import fit_softmax

    rng = np.random.default_rng(3)
    n, n_sparse, n_dense = 300, 60, 12
    targets = rng.integers(0, n_classes, n)
    ngrams = sp.random(n, n_sparse, density=0.1, format="csr", random_state=4)
    ngrams = (ngrams + sp.csr_matrix(np.eye(n_classes)[targets] @ rng.random((n_classes, n_sparse)) * 0.3)).tocsr()
    dense = rng.normal(size=(n, n_dense)) + np.eye(n_classes, n_dense)[targets]
    weights, bias = fit_softmax(ngrams, dense, targets, n_classes, c=30.0)

    reference = LogisticRegression(C=30.0, tol=1e-2, max_iter=200, multi_class="multinomial")
    reference.fit(sp.hstack([ngrams, sp.csr_matrix(dense)]).tocsr(), targets)
    unseen = np.hstack(
        [rng.random((50, n_sparse)) * (rng.random((50, n_sparse)) < 0.1), rng.normal(size=(50, n_dense))]
    )
    logits = unseen @ weights.T + bias
    ours = np.exp(logits - logits.max(axis=1, keepdims=True))
    ours /= ours.sum(axis=1, keepdims=True)
    theirs = reference.predict_proba(unseen)
    assert np.abs(ours - theirs).max() < 1e-4
    assert (ours.argmax(axis=1) == theirs.argmax(axis=1)).all()
