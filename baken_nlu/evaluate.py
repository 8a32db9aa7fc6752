"""Score a trained model on a held-out set: the numbers a model must show before it goes live.

`python -m baken_nlu.evaluate --model models/x.tar.gz [--heldout data/evaluation/heldout.jsonl]
--out result.json` writes intent accuracy, macro-F1, per-intent F1, crisis recall, false
crisis rate, domain micro-F1 and the full confusion matrix as JSON (no message text, so
the result can be stored and shown). The benchmark (benchmarks/nlu.py) uses the same
scoring.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from baken_core.paths import PROJECT_ROOT
from baken_core.triage import assess

DEFAULT_HELDOUT = "data/evaluation/heldout.jsonl"


@dataclass
class Prediction:
    text: str
    intent: str
    gold_intent: str
    domains: list[str]
    gold_domains: list[str]
    urgency: str
    gold_urgency: str


@dataclass
class Scores:
    accuracy: float
    macro_f1: float
    domain_micro_f1: float
    crisis_recall: float
    false_crisis: float
    urgent_recall: float
    per_intent_f1: dict[str, float] = field(default_factory=dict)
    confusions: list[tuple[str, str, int]] = field(default_factory=list)
    crisis_missed: list[str] = field(default_factory=list)
    false_crisis_texts: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    """Row and column order of `matrix` (gold rows, predicted columns)."""
    matrix: list[list[int]] = field(default_factory=list)
    n: int = 0


def score(predictions: Sequence[Prediction]) -> Scores:
    from sklearn.metrics import accuracy_score, confusion_matrix, f1_score

    gold = [p.gold_intent for p in predictions]
    pred = [p.intent for p in predictions]
    labels = sorted(set(gold))
    per_intent = f1_score(gold, pred, labels=labels, average=None, zero_division=0)
    matrix_labels = sorted(set(gold) | set(pred))
    tp = sum(len(set(p.domains) & set(p.gold_domains)) for p in predictions)
    fp = sum(len(set(p.domains) - set(p.gold_domains)) for p in predictions)
    fn = sum(len(set(p.gold_domains) - set(p.domains)) for p in predictions)
    domain_f1 = 2 * tp / (2 * tp + fp + fn) if tp else 0.0
    crisis = [p for p in predictions if p.gold_urgency == "crisis"]
    non_crisis = [p for p in predictions if p.gold_urgency != "crisis"]
    urgent = [p for p in predictions if p.gold_urgency == "urgent"]
    confusions = Counter((p.gold_intent, p.intent) for p in predictions if p.intent != p.gold_intent)
    return Scores(
        accuracy=float(accuracy_score(gold, pred)),
        macro_f1=float(f1_score(gold, pred, labels=labels, average="macro", zero_division=0)),
        domain_micro_f1=domain_f1,
        crisis_recall=sum(p.urgency == "crisis" for p in crisis) / len(crisis) if crisis else 1.0,
        false_crisis=sum(p.urgency == "crisis" for p in non_crisis) / len(non_crisis) if non_crisis else 0.0,
        urgent_recall=sum(p.urgency in ("urgent", "crisis") for p in urgent) / len(urgent) if urgent else 1.0,
        per_intent_f1={label: float(f) for label, f in zip(labels, per_intent, strict=True)},
        confusions=[(g, p, n) for (g, p), n in confusions.most_common(12)],
        crisis_missed=[p.text for p in crisis if p.urgency != "crisis"],
        false_crisis_texts=[p.text for p in non_crisis if p.urgency == "crisis"],
        labels=matrix_labels,
        matrix=confusion_matrix(gold, pred, labels=matrix_labels).tolist(),
        n=len(predictions),
    )


def to_prediction(item: dict[str, Any], parsed: dict[str, Any]) -> Prediction:
    """One held-out item and the model's parse of it (triage from the parse, or the core)."""
    intent = (parsed.get("intent") or {}).get("name") or "nlu_fallback"
    triage = parsed.get("triage")
    if triage is None:  # a pipeline without the triage component: apply the same core afterwards
        understood = intent
        ranking = parsed.get("intent_ranking") or []
        if intent == "nlu_fallback" and ranking:
            understood = ranking[0].get("name")
        triage = assess(item["text"], understood, ranking).as_dict()
        if triage["urgency"] == "crisis":
            intent = "report_crisis"
    return Prediction(
        text=item["text"],
        intent=intent,
        gold_intent=item["intent"],
        domains=list(triage.get("domains") or []),
        gold_domains=list(item.get("domains") or []),
        urgency=str(triage.get("urgency") or "normal"),
        gold_urgency=item.get("urgency", "normal"),
    )


def load_heldout(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def public(scores: Scores) -> dict[str, Any]:
    """The scores without message texts: safe to store in the registry and show in a page."""
    result = asdict(scores)
    for key in ("crisis_missed", "false_crisis_texts"):
        result[key.replace("_texts", "") + "_count"] = len(result.pop(key))
    return result


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", required=True)
    parser.add_argument("--heldout", default=DEFAULT_HELDOUT)
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)

    from baken_nlu.model_loader import Parser, quiet

    quiet()
    items = load_heldout(PROJECT_ROOT / args.heldout)
    model = Parser(Path(args.model))
    try:
        predictions = [to_prediction(item, model.parse(item["text"])) for item in items]
    finally:
        model.close()
    Path(args.out).write_text(json.dumps(public(score(predictions)), ensure_ascii=False), encoding="utf-8")
    print(f"Evaluated on {len(items)} messages: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
