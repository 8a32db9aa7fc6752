"""A small sentence-level crisis classifier, trained with the NLU model.

A crisis hidden in a long message about money ("…ik heb een touw in de schuur gelegd.
Kunt u me vertellen hoe ik de terugvordering spreid?") is read by DIET as a money
question. This classifier scores every sentence on its own (character n-grams, logistic
regression on the crisis examples against all others); the highest sentence score counts.
It is stored as plain JSON (vocabulary, idf, weights): no pickles in the model.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from baken_core.text import fold

_SENTENCE = re.compile(r"(?<=[.!?;])\s+|\n+|\s+(?:en|maar|want|dus)\s+(?=ik\b|hij\b|ze\b|zij\b|mijn\b)")
VECTORIZER = {"analyzer": "char_wb", "ngram_range": (2, 5), "min_df": 2, "sublinear_tf": True}


def sentences(text: str) -> list[str]:
    """The message and its sentences (and clauses joined by en/maar/want/dus)."""
    folded = fold(text)
    parts = [p.strip() for p in _SENTENCE.split(folded) if p and p.strip()]
    return [folded, *parts] if len(parts) > 1 else [folded]


@dataclass
class CrisisModel:
    vectorizer: TfidfVectorizer
    weights: np.ndarray
    bias: float

    @classmethod
    def train(cls, texts: Sequence[str], is_crisis: Sequence[bool]) -> CrisisModel:
        vectorizer = TfidfVectorizer(**VECTORIZER)
        features = vectorizer.fit_transform([fold(t) for t in texts])
        classifier = LogisticRegression(class_weight="balanced", C=4.0, max_iter=2000, random_state=42)
        classifier.fit(features, np.asarray(is_crisis, dtype=int))
        return cls(vectorizer, classifier.coef_[0].astype(float), float(classifier.intercept_[0]))

    def score(self, text: str) -> float:
        """The highest crisis probability over the message and its sentences."""
        features = self.vectorizer.transform(sentences(text))
        logits = features @ self.weights + self.bias
        return float(np.max(1.0 / (1.0 + np.exp(-logits))))

    def to_json(self) -> dict[str, Any]:
        return {
            "vocabulary": {k: int(v) for k, v in self.vectorizer.vocabulary_.items()},
            "idf": self.vectorizer.idf_.tolist(),
            "weights": self.weights.tolist(),
            "bias": self.bias,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CrisisModel:
        vectorizer = TfidfVectorizer(**VECTORIZER, vocabulary=data["vocabulary"])
        vectorizer.idf_ = np.asarray(data["idf"], dtype=float)
        return cls(vectorizer, np.asarray(data["weights"], dtype=float), float(data["bias"]))

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_json()), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> CrisisModel:
        return cls.from_json(json.loads(path.read_text(encoding="utf-8")))
