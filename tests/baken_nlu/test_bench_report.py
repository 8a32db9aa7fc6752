"""The NLU benchmark's report says what the load average around the training means."""

from __future__ import annotations

from benchmarks.nlu import load_note


def test_the_report_blames_other_work_only_when_the_load_was_above_the_cores() -> None:
    assert load_note((0.7, 1.9), 2).startswith("not above the core count")
    assert load_note((3.9, 2.1), 2).startswith("above the core count")
    assert load_note((1.0, 2.5), 2).startswith("above the core count")
