"""benchmarks/rules_replay.py: what a change to the triage rules moves, and which way."""

from __future__ import annotations

from pathlib import Path

import yaml

from baken_core.paths import PROJECT_ROOT
from baken_core.triage import parse_rules
from benchmarks import rules_replay
from benchmarks.nlu import HELDOUT_SETS, HONEST


def tree_rules() -> dict:
    return yaml.safe_load((PROJECT_ROOT / rules_replay.RULES).read_text(encoding="utf-8"))


def test_a_dropped_crisis_rule_shows_as_crises_lost_and_a_new_rule_as_what_it_moves() -> None:
    raw = tree_rules()
    without = {
        **raw,
        "crisis": [r for r in raw["crisis"] if r["id"] != "suicide_explicit"],
        "past_and_over": {**raw["past_and_over"], "applies_to": ["violence_at_home"]},
    }
    unread = rules_replay.unread_files()
    honest = next(Path(path).name for name, path, _ in HELDOUT_SETS if name == HONEST)
    assert honest in unread
    seen = rules_replay.messages(unread)
    assert len(seen) > 10_000 and any(
        where == "training report_crisis" and label == "crisis" for where, _, label in seen
    )
    assert not {Path(name).stem for name in unread} & {where for where, _, _ in seen}, "unread sets stay unread"
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
    assert not change("training ask_bijstand", "t", None, "normal", "crisis").toward_label
