"""The Dutch spaCy pipeline built from code: lemmas and entities from data."""

from __future__ import annotations

import spacy

from baken_nlu.spacy_pipeline import DEFAULT_OUTPUT, build_pipeline, ensure_pipeline, load_patterns


def test_lookup_lemmas_fold_word_forms() -> None:
    nlp = build_pipeline(patterns=[])
    lemmas = [t.lemma_ for t in nlp("de deurwaarders kwamen voor mijn schulden")]
    assert lemmas == ["de", "deurwaarder", "komen", "voor", "mijn", "schuld"]


def test_entity_ruler_finds_benefits_creditors_amounts_and_periods() -> None:
    nlp = spacy.load(ensure_pipeline(DEFAULT_OUTPUT))
    doc = nlp("Al drie maanden € 1.250,50 achter bij Vattenfall en 300 euro bij het CJIB, ik heb huurtoeslag")
    found = {(e.text, e.label_) for e in doc.ents}
    assert {
        ("drie maanden", "period"),
        ("€ 1.250,50", "amount"),
        ("300 euro", "amount"),
        ("Vattenfall", "creditor"),
        ("CJIB", "creditor"),
        ("huurtoeslag", "benefit"),
    } <= found
    assert {e.ent_id_ for e in doc.ents if e.text == "Vattenfall"} == {"energieleverancier"}


def test_patterns_file_expands_to_labelled_patterns() -> None:
    patterns = load_patterns()
    assert {p["label"] for p in patterns} == {"benefit", "creditor", "amount", "period"}
    assert len(patterns) > 100
