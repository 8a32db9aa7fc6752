"""The fallback trade-off: for each pair of thresholds, how many messages are answered and
right, asked to rephrase, or answered and wrong.

Rasa's FallbackClassifier turns DIET's guess into `nlu_fallback` ("zeg het anders") when
the top confidence is below `threshold` or the top two are closer than
`ambiguity_threshold`. From parses of *read* held-out sets (DIET's ranking is kept in full,
see benchmarks/nlu_experiment.py) this replays every threshold pair without retraining.
Messages whose intent the triage step set (crisis, another language, no Dutch word) keep it.

The chosen pair minimises `wrong + REPHRASE_COST * rephrase`: a wrong answer sends a citizen
off with information about something else (and they may not notice), a request to rephrase
costs one more message; we count a wrong answer as twice as bad.

`python -m benchmarks.fallback_curve build/exp/x/parses.json [--sets fresh4 fresh5]`
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Iterable, List, Sequence

FALLBACK = "nlu_fallback"
REPHRASE_COST = 0.5
THRESHOLDS = [round(0.1 + 0.05 * i, 2) for i in range(13)]  # 0.10 … 0.70
AMBIGUITIES = [0.0, 0.02, 0.05, 0.1, 0.15, 0.2]


@dataclass(frozen=True)
class Point:
    threshold: float
    ambiguity: float
    right: int
    rephrase: int
    wrong: int

    @property
    def n(self) -> int:
        return self.right + self.rephrase + self.wrong

    @property
    def cost(self) -> float:
        return self.wrong + REPHRASE_COST * self.rephrase


def decide(row: Dict[str, Any], threshold: float, ambiguity: float) -> str:
    """The intent a parse would have had with these thresholds."""
    if row.get("overridden") or not row.get("ranking"):
        return str(row["intent"])
    ranking = row["ranking"]
    top = float(ranking[0][1])
    second = float(ranking[1][1]) if len(ranking) > 1 else 0.0
    if top < threshold or top - second < ambiguity:
        return FALLBACK
    return str(ranking[0][0])


def point(rows: Sequence[Dict[str, Any]], threshold: float, ambiguity: float) -> Point:
    right = rephrase = wrong = 0
    for row in rows:
        intent = decide(row, threshold, ambiguity)
        if intent == row["gold"]:
            right += 1
        elif intent == FALLBACK:
            rephrase += 1
        else:
            wrong += 1
    return Point(threshold, ambiguity, right, rephrase, wrong)


def curve(rows: Sequence[Dict[str, Any]]) -> List[Point]:
    return [point(rows, t, a) for t in THRESHOLDS for a in AMBIGUITIES]


def best(points: Iterable[Point]) -> Point:
    """Lowest cost; on a tie the stricter pair (higher thresholds)."""
    return min(points, key=lambda p: (p.cost, -p.threshold, -p.ambiguity))


def table(points: Sequence[Point], ambiguity: float) -> str:
    lines = [
        f"| threshold (ambiguity {ambiguity}) | answered, right | asked to rephrase | answered, wrong | cost |",
        "|---|---|---|---|---|",
    ]
    for p in points:
        if p.ambiguity == ambiguity:
            shares = f"{p.right / p.n:.1%} | {p.rephrase / p.n:.1%} | {p.wrong / p.n:.1%}"
            lines.append(f"| {p.threshold:.2f} | {shares} | {p.cost:.1f} |")
    return "\n".join(lines)


def main(argv: List[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("parses")
    parser.add_argument("--sets", nargs="*")
    args = parser.parse_args(argv)
    data = json.loads(Path(args.parses).read_text(encoding="utf-8"))
    rows = [r for name, rs in data["sets"].items() if not args.sets or name in args.sets for r in rs]
    points = curve(rows)
    chosen = best(points)
    print(table(points, chosen.ambiguity))
    print(
        f"\nbest: threshold {chosen.threshold}, ambiguity {chosen.ambiguity}: right {chosen.right}, "
        f"rephrase {chosen.rephrase}, wrong {chosen.wrong} of {chosen.n}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
