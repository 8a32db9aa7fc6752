"""baken_nlu/read_sets.py: what a folded read set brings into the training data, and what it leaves out."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from baken_nlu import read_sets


def _set(folder: Path, name: str, items: list[tuple[str, str]]) -> None:
    lines = [json.dumps({"text": t, "intent": i, "domains": [], "urgency": "normal"}) for t, i in items]
    (folder / name).write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_each_text_once_and_nothing_trained_measured_or_personal(tmp_path: Path) -> None:
    evaluation, nlu = tmp_path / "evaluation", tmp_path / "nlu"
    evaluation.mkdir()
    nlu.mkdir()
    (nlu / "schulden.yml").write_text(
        'version: "3.1"\nnlu:\n- intent: report_schulden\n  examples: |\n    - ik heb schulden\n', encoding="utf-8"
    )
    _set(
        evaluation,
        "old.jsonl",
        [
            ("Ik heb  SCHULDEN", "report_schulden"),  # a hand-written line already
            ("de deurwaarder staat voor de deur", "ask_deurwaarder"),
            ("de deurwaarder staat voor de deur", "ask_deurwaarder"),  # twice in the set
            ("wat is huurtoeslag", "ask_huurtoeslag"),  # a measured set has it
            ("Goedemiddag, u spreekt met Ans.", "greet"),  # a name: personal data
            ("hallo", "greet"),
        ],
    )
    _set(evaluation, "older.jsonl", [("Hallo", "greet"), ("mag de deurwaarder mijn auto meenemen", "ask_beslag")])
    _set(evaluation, "measured.jsonl", [("Wat is huurtoeslag", "ask_huurtoeslag")])

    examples = read_sets.folded_examples(evaluation, nlu, ("old.jsonl", "older.jsonl"))

    assert examples == {
        "ask_deurwaarder": ["de deurwaarder staat voor de deur"],
        "greet": ["hallo"],
        "ask_beslag": ["mag de deurwaarder mijn auto meenemen"],
    }
    rendered = yaml.safe_load(read_sets.render(examples))["nlu"]
    assert [block["intent"] for block in rendered] == ["ask_beslag", "ask_deurwaarder", "greet"]
    assert rendered[1]["examples"] == "- de deurwaarder staat voor de deur\n"


def test_a_generated_file_that_is_out_of_date_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "read_sets.yml"
    monkeypatch.setattr(read_sets, "OUTPUT", out)
    monkeypatch.setattr(read_sets, "PROJECT_ROOT", tmp_path)
    monkeypatch.setattr(read_sets, "folded_examples", lambda: {"greet": ["hallo"]})
    assert read_sets.main(["--check"]) == 1  # missing
    assert read_sets.main([]) == 0
    assert read_sets.main(["--check"]) == 0
    out.write_text(out.read_text(encoding="utf-8") + "    - hoi\n", encoding="utf-8")
    assert read_sets.main(["--check"]) == 1
