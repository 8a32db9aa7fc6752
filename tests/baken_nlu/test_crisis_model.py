"""The sentence-level crisis classifier: finds a crisis hidden in a money message."""

from __future__ import annotations

import json

from baken_nlu.crisis_model import CrisisModel, sentences

CRISIS = [
    "ik wil er niet meer zijn",
    "ik heb een touw gekocht",
    "hij slaat me elke avond",
    "ik denk aan zelfmoord",
    "ik wil niet meer leven",
    "ik ga mezelf iets aandoen",
]
OTHER = [
    "hoe vraag ik zorgtoeslag aan",
    "ik heb schulden bij het cjib",
    "kan ik een betalingsregeling krijgen",
    "mijn huur is te hoog",
    "ik schrik me dood van die brief",
    "wat is kwijtschelding",
]


def test_sentences_split_long_messages() -> None:
    parts = sentences("Ik heb een vraag over huurtoeslag. Ik zie het niet meer zitten! Hoe vraag ik het aan?")
    assert len(parts) == 4 and parts[2] == "ik zie het niet meer zitten!"


def test_a_hidden_crisis_sentence_scores_high_and_survives_json() -> None:
    model = CrisisModel.train(CRISIS * 3 + OTHER * 3, [True] * 18 + [False] * 18)
    hidden = "Ik heb een vraag over de zorgtoeslag. Ik wil niet meer leven. Hoe vraag ik het aan?"
    assert model.score(hidden) > model.score("Ik heb een vraag over de zorgtoeslag. Hoe vraag ik het aan?")
    restored = CrisisModel.from_json(json.loads(json.dumps(model.to_json())))
    assert abs(restored.score(hidden) - model.score(hidden)) < 1e-9
