"""`scripts/classify`: one JSON line per input line with intent, confidence and triage.

Reads UTF-8 lines on stdin; prints {"text", "intent", "confidence", "domains", "urgency"}
per line, in order, using the trained model (the same NLU + triage path as the live
assistant). Exit code 2 when there is no trained model.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
from pathlib import Path
from typing import Any, Dict

from baken_nlu.model_loader import Parser, latest_model, quiet


def to_record(text: str, parsed: Dict[str, Any]) -> Dict[str, Any]:
    intent = parsed.get("intent") or {}
    triage = parsed.get("triage") or {}
    return {
        "text": text,
        "intent": intent.get("name"),
        "confidence": round(float(intent.get("confidence") or 0.0), 4),
        "domains": list(triage.get("domains") or []),
        "urgency": triage.get("urgency", "normal"),
    }


def main(argv: list[str]) -> int:
    model: Path | None = Path(argv[1]) if len(argv) > 1 else latest_model()
    if model is None or not model.exists():
        print("Er is nog geen getraind model. Voer eerst `make train` uit.", file=sys.stderr)
        return 2
    quiet()
    # Loading TensorFlow and Rasa prints pages of deprecation warnings; keep them unless
    # loading fails, so stderr shows only what matters.
    captured = io.StringIO()
    try:
        with contextlib.redirect_stderr(captured):
            parser = Parser(model)
    except Exception:
        sys.stderr.write(captured.getvalue())
        raise
    stdin = io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8", errors="replace")
    try:
        for line in stdin:
            text = line.rstrip("\r\n")
            print(json.dumps(to_record(text, parser.parse(text)), ensure_ascii=False), flush=True)
    finally:
        parser.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
