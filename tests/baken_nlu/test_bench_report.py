"""The NLU benchmark's report says what the load average around the training means."""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks.nlu import baseline_key, load_note, trained_baseline


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
