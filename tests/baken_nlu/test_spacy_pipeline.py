"""The Dutch spaCy pipeline built from code: lemmas and entities from data."""

from __future__ import annotations

import shutil
from pathlib import Path

import spacy
import yaml
from pytest import MonkeyPatch

from baken_core import entity_patterns
from baken_core.paths import PROJECT_ROOT
from baken_nlu.spacy_pipeline import DEFAULT_OUTPUT, build_pipeline, ensure_pipeline, load_patterns
from baken_nlu.train import pinned_config


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


def test_a_model_trained_by_the_desk_gets_a_pipeline_of_its_own(tmp_path: Path, monkeypatch: MonkeyPatch) -> None:
    """A phrase the admin marked is recognised by the next model's pipeline; the pipeline is
    built per pattern set, so an older model keeps the patterns it was trained with. The desk's
    training job adds the phrases to its merged copy of data/ the same way and passes the copy
    as BAKEN_DATA_DIR (handoff/learning/training_data.py), as this test does."""
    data = tmp_path / "data"
    shutil.copytree(PROJECT_ROOT / "data" / "nlp", data / "nlp")
    monkeypatch.setenv("BAKEN_DATA_DIR", str(data))
    first = pinned_config(PROJECT_ROOT / "config.yml", tmp_path / "spacy", tmp_path / "a.config.yml")
    entity_patterns.add_phrase("creditor", "Vesteda", "woningcorporatie", data / "nlp" / "entity_patterns.yml")
    second = pinned_config(PROJECT_ROOT / "config.yml", tmp_path / "spacy", tmp_path / "b.config.yml")

    def pipeline_of(config: Path) -> Path:
        loaded = yaml.safe_load(config.read_text(encoding="utf-8"))
        return Path(next(c["model"] for c in loaded["pipeline"] if c["name"].endswith("SpacyNLP")))

    old, new = pipeline_of(first), pipeline_of(second)
    assert old != new and old.parent == new.parent == (tmp_path / "spacy").resolve()
    sentence = "ik heb een huurachterstand bij vesteda"
    assert [e.text for e in spacy.load(old)(sentence).ents] == []
    assert [(e.text, e.label_, e.ent_id_) for e in spacy.load(new)(sentence).ents] == [
        ("vesteda", "creditor", "woningcorporatie")
    ]
    rest = yaml.safe_load(second.read_text(encoding="utf-8"))
    assert rest["policies"] == yaml.safe_load((PROJECT_ROOT / "config.yml").read_text(encoding="utf-8"))["policies"]
