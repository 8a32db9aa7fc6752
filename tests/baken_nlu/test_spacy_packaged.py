"""A trained model carries its spaCy pipeline (baken_nlu/spacy_packaged.py): it loads and finds
entities after the folder it was trained from is gone, as on a Rasa server on another machine
that downloaded the model from the desk. Also when the second training came from Rasa's cache."""

from __future__ import annotations

import shutil
import tarfile
from pathlib import Path

import pytest
import yaml

from baken_core.paths import PROJECT_ROOT
from baken_nlu.model_loader import Parser, quiet
from baken_nlu.spacy_pipeline import DEFAULT_OUTPUT, ensure_pipeline

pytestmark = pytest.mark.training

SENTENCE = "ik heb een achterstand bij het CJIB en bij Vattenfall"


TINY_NLU = """version: "3.1"
nlu:
- intent: greet
  examples: |
    - hallo
    - goedemorgen
    - hoi daar
- intent: ask_beslag
  examples: |
    - er ligt beslag op mijn loon
    - de deurwaarder legt beslag
    - beslag op mijn uitkering
"""


def small_config(pipeline: Path, out: Path) -> Path:
    """tests/configs/fast.yml (the spaCy part as in config.yml) with the pipeline at `pipeline`,
    one DIET epoch and no triage (what is under test is the pipeline, not the intents)."""
    config = yaml.safe_load((PROJECT_ROOT / "tests" / "configs" / "fast.yml").read_text(encoding="utf-8"))
    config["pipeline"] = [c for c in config["pipeline"] if not c["name"].endswith("TriageAnnotator")]
    for component in config["pipeline"]:
        if component["name"].endswith("SpacyNLP"):
            assert component["name"] == "baken_nlu.spacy_packaged.SpacyNLP"
            component["model"] = str(pipeline)
        if component["name"] == "DIETClassifier":
            component["epochs"] = 1
    out.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return out


def train(config: Path, out: Path) -> Path:
    from rasa.model_training import train_nlu

    data = config.parent / "nlu.yml"
    data.write_text(TINY_NLU, encoding="utf-8")
    model = train_nlu(str(config), str(data), str(out), fixed_model_name="nlu")
    assert model, "training failed"
    return Path(model)


def creditors(model: Path) -> set[str]:
    parser = Parser(model)
    try:
        parsed = parser.parse(SENTENCE)
    finally:
        parser.close()
    return {e["value"] for e in parsed["entities"] if e["entity"] == "creditor"}


def test_a_model_loads_its_own_spacy_pipeline_when_the_folder_is_gone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    quiet()
    monkeypatch.setenv("RASA_CACHE_DIRECTORY", str(tmp_path / "cache"))
    pipeline = tmp_path / "spacy" / "pipeline"
    shutil.copytree(ensure_pipeline(DEFAULT_OUTPUT), pipeline)
    config = small_config(pipeline, tmp_path / "config.yml")
    first = train(config, tmp_path / "first")
    again = train(config, tmp_path / "again")  # nothing changed: Rasa restores every step from its cache

    with tarfile.open(first) as archive:
        names = archive.getnames()
    assert any(n.endswith("spacy_pipeline/config.cfg") for n in names), "the pipeline is not in the model"

    shutil.rmtree(tmp_path / "spacy")  # as on another machine
    assert creditors(first) >= {"CJIB", "Vattenfall"}
    assert creditors(again) >= {"CJIB", "Vattenfall"}
