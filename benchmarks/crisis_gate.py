"""The crisis decision: how many crisis messages each way of combining the signals catches,
and how many other messages it calls a crisis, replayed on parses of *read* held-out sets.

A message is a crisis when a crisis rule fires (data/triage/rules.yml, applied again to the
text, so rule changes count), when the intent ranking puts `report_crisis` first or at least
`intent` high, when the sentence classifier alone scores at least `sentence`, or when both
reach the lower joint pair. Rules stay on always: recall first (docs/triage.md).

`python -m benchmarks.crisis_gate build/exp/x/parses.json` (from benchmarks/nlu_experiment.py);
bench-nlu prints the same table for the read sets.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Sequence

from baken_core.paths import PROJECT_ROOT
from baken_core.triage import RuleSet, crisis_signals, default_rules


@dataclass(frozen=True)
class Gate:
    intent: float
    """`report_crisis` anywhere in the ranking from this confidence on (rules.yml min_confidence)."""
    sentence: float
    """The sentence classifier alone."""
    joint_sentence: float
    joint_intent: float

    def label(self) -> str:
        return (
            f"intent ≥ {self.intent:.2f}; sentence ≥ {self.sentence:.2f}; "
            f"sentence ≥ {self.joint_sentence:.2f} with intent ≥ {self.joint_intent:.2f}"
        )


CANDIDATES = [
    Gate(0.3, 0.7, 0.7, 0.0),  # until 2026-12-06: the sentence classifier alone from 0.7
    Gate(0.3, 0.8, 0.5, 0.15),
    Gate(0.3, 0.9, 0.6, 0.2),  # 2026-12-06 to 2026-12-07
    Gate(0.3, 0.95, 0.7, 0.25),
    Gate(0.35, 0.9, 0.6, 0.2),
    Gate(0.45, 0.9, 0.6, 0.2),
    Gate(0.3, 1.01, 1.01, 1.01),  # rules and the intent ranking only
]


@dataclass(frozen=True)
class Outcome:
    gate: Gate
    crisis: int
    caught: int
    others: int
    false_alarms: int
    missed: List[str]


def features(row: Dict[str, Any], rules: RuleSet) -> Dict[str, Any]:
    ranking = row.get("ranking") or []
    crisis = rules.crisis_intent
    return {
        "gold": row.get("gold_urgency") == "crisis",
        "rule": bool(crisis_signals(row["text"], rules)),
        "top": bool(ranking) and ranking[0][0] == crisis,
        "intent": max([float(c) for name, c in ranking if name == crisis], default=0.0),
        "sentence": float(row.get("crisis_score") or 0.0),
    }


def says_crisis(f: Dict[str, Any], gate: Gate) -> bool:
    return bool(
        f["rule"]
        or f["top"]
        or f["intent"] >= gate.intent
        or f["sentence"] >= gate.sentence
        or (f["sentence"] >= gate.joint_sentence and f["intent"] >= gate.joint_intent)
    )


def evaluate(rows: Sequence[Dict[str, Any]], gate: Gate, rules: RuleSet | None = None) -> Outcome:
    ruleset = rules or default_rules()
    caught = false_alarms = 0
    missed: List[str] = []
    for row in rows:
        f = features(row, ruleset)
        said = says_crisis(f, gate)
        if f["gold"]:
            caught += said
            if not said:
                missed.append(row["text"])
        else:
            false_alarms += said
    crisis = sum(row.get("gold_urgency") == "crisis" for row in rows)
    return Outcome(gate, crisis, caught, len(rows) - crisis, false_alarms, missed)


def table(outcomes: Sequence[Outcome], configured: Gate | None = None) -> str:
    lines = ["| crisis when (besides any rule) | crisis caught | false crisis |", "|---|---|---|"]
    for o in outcomes:
        mark = " (config.yml)" if o.gate == configured else ""
        lines.append(
            f"| {o.gate.label()}{mark} | {o.caught}/{o.crisis} | {o.false_alarms}/{o.others} "
            f"({o.false_alarms / max(o.others, 1):.1%}) |"
        )
    return "\n".join(lines)


def configured_gate(config: Path) -> Gate:
    """The gate config.yml and the rules file set."""
    import yaml

    pipeline = yaml.safe_load(config.read_text(encoding="utf-8"))["pipeline"]
    triage = next(c for c in pipeline if c["name"].endswith("TriageAnnotator"))
    return Gate(
        default_rules().crisis_min_confidence,
        float(triage.get("crisis_sentence_threshold", 0.7)),
        float(triage.get("crisis_joint_sentence_threshold", 0.7)),
        float(triage.get("crisis_joint_intent_threshold", 0.0)),
    )


def rows_from_experiment(parses: Path, sets: Sequence[str] = ()) -> List[Dict[str, Any]]:
    """Rows of benchmarks/nlu_experiment.py's parses.json, with each message's text."""
    from benchmarks.nlu import HELDOUT_SETS

    data = json.loads(parses.read_text(encoding="utf-8"))
    rows: List[Dict[str, Any]] = []
    for name, path, _ in HELDOUT_SETS:
        if name not in data["sets"] or (sets and name not in sets):
            continue
        items = [json.loads(line) for line in (PROJECT_ROOT / path).read_text(encoding="utf-8").splitlines() if line]
        rows += [{**row, "text": item["text"]} for item, row in zip(items, data["sets"][name], strict=True)]
    return rows


def main(argv: List[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("parses")
    parser.add_argument("--sets", nargs="*", default=[])
    args = parser.parse_args(argv)
    rows = rows_from_experiment(Path(args.parses), args.sets)
    configured = configured_gate(PROJECT_ROOT / "config.yml")
    gates = CANDIDATES if configured in CANDIDATES else [*CANDIDATES, configured]
    outcomes = [evaluate(rows, gate) for gate in gates]
    print(table(outcomes, configured))
    for o in outcomes:
        for text in o.missed:
            print(f"missed with {o.gate.label()}: {text}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
