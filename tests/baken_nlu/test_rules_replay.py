"""benchmarks/rules_replay.py: what a change to the triage rules moves, and which way."""

from __future__ import annotations

from pathlib import Path

import yaml

from baken_core.paths import PROJECT_ROOT
from baken_core.triage import parse_rules
from benchmarks import rules_replay


def tree_rules() -> dict:
    return yaml.safe_load((PROJECT_ROOT / rules_replay.RULES).read_text(encoding="utf-8"))


def test_a_dropped_crisis_rule_shows_as_crises_lost_and_a_new_rule_as_what_it_moves() -> None:
    raw = tree_rules()
    without = {**raw, "crisis": [r for r in raw["crisis"] if r["id"] != "suicide_explicit"]}
    honest = rules_replay.honest_file()
    seen = rules_replay.messages(honest)
    assert len(seen) > 10_000 and "training" in {where for where, _, _ in seen}
    assert Path(honest).stem not in {where for where, _, _ in seen}, "the honest set is never read"
    seen = seen[::4]  # a quarter is plenty, and quick
    changes = rules_replay.replay(parse_rules(raw), parse_rules(without), seen)
    lost = [c for c in changes if c.label == "crisis" and c.before == "crisis"]
    assert lost and all(not c.toward_label for c in lost)

    widened = {**raw, "urgent": [*raw["urgent"], {"id": "test_rent", "patterns": [r"\bhuur\b"]}]}
    moved = rules_replay.replay(parse_rules(raw), parse_rules(widened), seen)
    assert any(c.label == "normal" and c.after == "urgent" and not c.toward_label for c in moved)
    assert all(c.before == "normal" and c.after == "urgent" for c in moved)


def test_toward_the_label_is_closer_to_it() -> None:
    change = rules_replay.Change
    assert change("s", "t", "crisis", "normal", "urgent").toward_label
    assert not change("s", "t", "crisis", "crisis", "urgent").toward_label
    assert not change("s", "t", "normal", "normal", "urgent").toward_label
    assert not change("training", "t", None, "normal", "crisis").toward_label
