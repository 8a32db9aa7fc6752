"""Train the NLU part of a config and score it on chosen held-out sets, for comparing pipelines.

`python -m benchmarks.nlu_experiment --config config.yml --sets fresh5 fresh4 --out build/exp/a`
trains the NLU only (data/nlu, the project's domain), parses every message of each set and
writes `<out>/parses.json` (per set: gold labels, the final intent and triage, DIET's ranking
without the fallback) and prints accuracy, crisis recall, false crisis and the fallback rate
per set and pooled. Nothing is written into the repository; `benchmarks.fallback_curve` reads
the parses to calibrate the fallback thresholds. Give only *read* sets while tuning.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any, Dict, List

from baken_core.paths import PROJECT_ROOT
from baken_nlu.evaluate import score, to_prediction
from baken_nlu.model_loader import Parser, quiet
from benchmarks.nlu import HELDOUT_SETS, fallback_rate, ranking_without_fallback

SETS = {name: path for name, path, _ in HELDOUT_SETS}


def train(config: Path, out: Path, nlu: Path) -> tuple[str, float]:
    from rasa.model_training import train_nlu

    started = time.monotonic()
    model = train_nlu(
        str(config),
        str(nlu),
        str(out),
        fixed_model_name="nlu",
        domain=str(PROJECT_ROOT / "domain"),
    )
    if not model:
        raise RuntimeError("training failed")
    return model, time.monotonic() - started


def main(argv: List[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--config", required=True)
    parser.add_argument("--sets", nargs="+", required=True, choices=sorted(SETS))
    parser.add_argument("--out", required=True)
    parser.add_argument("--model", help="score this trained model instead of training one")
    parser.add_argument("--nlu", default=str(PROJECT_ROOT / "data" / "nlu"), help="training data folder (data/nlu)")
    args = parser.parse_args(argv)
    quiet()
    os.environ["RASA_MAX_CACHE_SIZE"] = "0"  # a cache hit would make training look instant
    os.chdir(PROJECT_ROOT)
    out = Path(args.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    if args.model:
        model_path, train_s = args.model, 0.0
    else:
        model_path, train_s = train(Path(args.config).resolve(), out, Path(args.nlu).resolve())
    model = Parser(Path(model_path))
    results: Dict[str, Any] = {"config": args.config, "train_s": round(train_s, 1), "sets": {}}
    pooled = []
    for name in args.sets:
        items = [
            json.loads(line)
            for line in (PROJECT_ROOT / SETS[name]).read_text(encoding="utf-8").splitlines()
            if line.strip()
        ]
        rows, predictions = [], []
        for item in items:
            parsed = model.parse(item["text"])
            prediction = to_prediction(item, parsed)
            predictions.append(prediction)
            rows.append(
                {
                    "gold": item["intent"],
                    "gold_urgency": item.get("urgency", "normal"),
                    "intent": prediction.intent,
                    "urgency": prediction.urgency,
                    "ranking": ranking_without_fallback(parsed),
                    "crisis_score": (parsed.get("triage") or {}).get("crisis_score"),
                    "signals": (parsed.get("triage") or {}).get("signals"),
                    # The triage step changed the intent (crisis, foreign, no Dutch word): not the fallback's doing.
                    "overridden": "original_intent" in (parsed.get("triage") or {}),
                }
            )
        pooled.extend(predictions)
        results["sets"][name] = rows
        print(summary(name, predictions), flush=True)
    model.close()
    print(summary("pooled", pooled))
    print(f"training {train_s:.0f} s")
    (out / "parses.json").write_text(json.dumps(results), encoding="utf-8")
    return 0


def summary(name: str, predictions: List[Any]) -> str:
    scores = score(predictions)
    fallback = fallback_rate(predictions)
    return (
        f"{name:>10}: n={scores.n} acc={scores.accuracy:.3f} f1={scores.macro_f1:.3f} "
        f"dom={scores.domain_micro_f1:.3f} crisis_rec={scores.crisis_recall:.3f} "
        f"false_crisis={scores.false_crisis:.3f} urgent_rec={scores.urgent_recall:.3f} fallback={fallback:.3f}"
    )


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
