"""The NLU benchmark's report says what the load average around the training means."""

from __future__ import annotations

import json
from pathlib import Path

from baken_nlu.evaluate import Scores
from benchmarks.nlu import HONEST, SetResult, baseline_key, load_note, render, trained_baseline


def test_the_report_blames_other_work_only_when_the_load_was_above_the_cores() -> None:
    assert load_note((0.7, 1.9), 2).startswith("not above the core count")
    assert load_note((3.9, 2.1), 2).startswith("above the core count")
    assert load_note((1.0, 2.5), 2).startswith("above the core count")


def test_a_baseline_trained_earlier_is_used_only_for_the_same_data(tmp_path: Path) -> None:
    """bench-nlu reuses a `rasa init` model only when it was trained on exactly this data and config."""
    data = tmp_path / "nlu-all.yml"
    data.write_text('version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n    - hallo\n', encoding="utf-8")
    model = tmp_path / "baseline.tar.gz"
    assert trained_baseline(model, baseline_key(data)) is None  # nothing trained yet
    model.write_bytes(b"model")
    key = baseline_key(data)
    (tmp_path / "baseline.tar.gz.json").write_text(json.dumps({"key": key, "train_s": 1800.0, "trained": "x"}))
    assert trained_baseline(model, key) == {"key": key, "train_s": 1800.0, "trained": "x"}
    data.write_text(data.read_text(encoding="utf-8") + "    - hoi\n", encoding="utf-8")  # one line more
    assert baseline_key(data) != key
    assert trained_baseline(model, baseline_key(data)) is None


def _result(name: str, base: Scores | None) -> SetResult:
    scores = Scores(0.9, 0.9, 0.9, 1.0, 0.02, 0.9, per_intent_f1={"greet": 1.0})
    return SetResult(name, f"data/evaluation/{name}.jsonl", "note", 10, scores, scores, base, 0.01)


def _report(base: Scores | None, base_train_s: float | None) -> str:
    results = [_result(HONEST, base), _result("dev", base)]
    return render(results, [40.0, 45.0], 800.0, 200.0, 150.0, base_train_s, "", None, None, 5, [], (0.5, 1.5), [])


def test_a_run_without_the_baseline_says_so_and_shows_no_baseline_numbers() -> None:
    without = _report(None, None)
    assert "| accuracy over the `rasa init` baseline | ≥ +5 points | not measured in this run" in without
    assert "| rasa init |" not in without and "baseline was not trained in this run" in without
    assert "no `rasa init` baseline in this run" in without and "for all three" not in without
    with_base = _report(Scores(0.85, 0.85, 0.85, 1.0, 0.03, 0.8), 3000.0)
    assert "+5.0 points" in with_base and "| intent accuracy | rasa init | 0.850 | 0.850 |" in with_base
