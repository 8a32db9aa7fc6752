"""Which messages a change to the triage rules moves: the rules of a git revision against the
rules in the tree, rules only (no model), on every read evaluation set and every training line.

A new rule is written for the misses of a set that was just read; before it lands, this shows
what else it touches (look-alikes that should stay normal, crises that must stay crises). The
honest set and the sets waiting to be it (benchmarks/nlu.py's HONEST and WAITING) are left out:
their texts are not to be read before their one measurement.

Usage: python -m benchmarks.rules_replay [--before HEAD] [--all]
    --all: also list the changes on evaluation messages whose label the new rules now match
    (by default only the changes that move away from a message's label, and every change on a
    training line, are listed; the counts cover everything).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import yaml

from baken_core.paths import PROJECT_ROOT
from baken_core.training_lines import training_intents, training_lines
from baken_core.triage import RuleSet, assess, parse_rules

RULES = "data/triage/rules.yml"
CRISIS_INTENT = "report_crisis"
LEVEL = {"normal": 0, "urgent": 1, "crisis": 2}


@dataclass(frozen=True)
class Change:
    where: str
    text: str
    label: str | None
    before: str
    after: str

    @property
    def toward_label(self) -> bool:
        if self.label is None:
            return False
        goal = LEVEL[self.label]
        return abs(LEVEL[self.after] - goal) < abs(LEVEL[self.before] - goal)


def rules_at(revision: str) -> RuleSet:
    shown = subprocess.run(
        ["git", "show", f"{revision}:{RULES}"], cwd=PROJECT_ROOT, check=True, capture_output=True, text=True
    )
    return parse_rules(yaml.safe_load(shown.stdout))


def unread_files() -> set[str]:
    """The honest set and the sets waiting to be it: not to be read."""
    from benchmarks.nlu import HELDOUT_SETS, HONEST, WAITING

    honest = next(Path(path).name for name, path, _ in HELDOUT_SETS if name == HONEST)
    return {honest, *(Path(path).name for path in WAITING)}


def messages(skip: set[str]) -> list[tuple[str, str, str | None]]:
    """(where, text, urgency label) of every read evaluation message and training line."""
    found: list[tuple[str, str, str | None]] = []
    for path in sorted((PROJECT_ROOT / "data" / "evaluation").glob("*.jsonl")):
        if path.name in skip:
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                row = json.loads(line)
                found.append((path.stem, str(row["text"]), str(row.get("urgency") or "normal")))
    intents = training_intents(PROJECT_ROOT / "data", prefer=CRISIS_INTENT)
    for text in sorted(training_lines(PROJECT_ROOT / "data")):
        intent = intents.get(text, "?")
        found.append((f"training {intent}", text, "crisis" if intent == CRISIS_INTENT else None))
    return found


def replay(before: RuleSet, after: RuleSet, seen: list[tuple[str, str, str | None]]) -> list[Change]:
    changes: list[Change] = []
    for where, text, label in seen:
        old, new = assess(text, rules=before).urgency, assess(text, rules=after).urgency
        if old != new:
            changes.append(Change(where, text, label, old, new))
    return changes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", default="HEAD", help="the git revision whose rules are compared (HEAD)")
    parser.add_argument("--all", action="store_true", help="list every change, also those toward the label")
    args = parser.parse_args(argv)
    skip = unread_files()
    seen = messages(skip)
    changes = replay(rules_at(args.before), parse_rules(yaml.safe_load((PROJECT_ROOT / RULES).read_text())), seen)
    kinds = Counter(
        "training line (not the crisis intent)"
        if c.label is None
        else ("toward its label" if c.toward_label else "AWAY from its label")
        for c in changes
    )
    print(f"{len(seen)} messages (every evaluation set but {', '.join(sorted(skip))}, and the training lines)")
    print(f"rules of {args.before} → the rules in the tree")
    print(f"{len(changes)} change: " + ", ".join(f"{n} {kind}" for kind, n in sorted(kinds.items())))
    for change in changes:
        if args.all or change.label is None or not change.toward_label or change.where.startswith("training"):
            label = "" if change.label is None else f" (label {change.label})"
            print(f"  {change.where}: {change.before} → {change.after}{label}: {change.text[:160]}")
    return 1 if kinds.get("AWAY from its label") else 0


if __name__ == "__main__":
    sys.exit(main())
