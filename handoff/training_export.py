"""Write annotated NLU inbox items to the training data: `data/nlu/<topic>.yml`.

The files stay plain Rasa YAML, diffable and reviewable in git: an example is appended to
its intent's `examples: |` block (a new block at the end when the intent has none there).
Three guards before anything is written: the text passed the masking (it came from the
inbox), it contains no BSN by the 11-proef (baken_core.pii.contains_bsn, a last check),
and it is not in a held-out test set (that would spoil the measurement).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from baken_core.paths import PROJECT_ROOT, data_dir
from baken_core.pii import contains_bsn
from handoff import intent_catalog
from handoff.models import InboxStatus, NluInboxItem, utcnow

HELDOUT_DIR = PROJECT_ROOT / "tests" / "nlu"
MAX_EXAMPLE_CHARS = 1000


def clean_example(text: str) -> str:
    """One line, no Rasa entity syntax by accident, no control characters."""
    text = "".join(" " if (ord(c) < 32 or ord(c) == 127) else c for c in text)
    text = " ".join(text.split())[:MAX_EXAMPLE_CHARS]
    return text.replace("](", "] (").replace("][", "] [").replace("]{", "] {")


def heldout_texts(folder: Path = HELDOUT_DIR) -> set[str]:
    texts: set[str] = set()
    for path in folder.glob("*.jsonl"):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                texts.add(" ".join(str(json.loads(line).get("text", "")).split()).lower())
    return texts


def append_examples(path: Path, intent: str, texts: list[str]) -> int:
    """Append `texts` to the intent's examples in a Rasa NLU file; returns how many were new."""
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else ['version: "3.1"', "nlu:"]
    existing = {line.strip()[2:].strip().lower() for line in lines if line.strip().startswith("- ")}
    new = []
    for text in texts:
        if text.lower() not in existing:
            existing.add(text.lower())
            new.append(text)
    if not new:
        return 0
    header = re.compile(rf"^- intent:\s*{re.escape(intent)}\s*$")
    start = next((i for i, line in enumerate(lines) if header.match(line)), None)
    if start is None:
        if lines and lines[-1].strip():
            lines.append("")
        lines += [f"- intent: {intent}", "  examples: |"] + [f"    - {t}" for t in new]
    else:
        end = start + 1
        while end < len(lines) and not lines[end].startswith("- "):
            end += 1
        last = max((i for i in range(start, end) if lines[i].startswith("    - ")), default=start + 1)
        lines[last + 1 : last + 1] = [f"    - {t}" for t in new]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return len(new)


@dataclass
class ExportReport:
    written: dict[str, int] = field(default_factory=dict)
    refused: list[tuple[int, str]] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.written.values())


def export_annotated(session: Session, nlu_dir: Path | None = None) -> ExportReport:
    """Write every annotated, not yet exported item to its topic file; mark it exported."""
    folder = nlu_dir or data_dir() / "nlu"
    report = ExportReport()
    heldout = heldout_texts()
    items = session.scalars(
        select(NluInboxItem)
        .where(NluInboxItem.status == InboxStatus.annotated, NluInboxItem.exported_at.is_(None))
        .order_by(NluInboxItem.id)
    ).all()
    by_file: dict[tuple[Path, str], list[str]] = {}
    now = utcnow()
    for item in items:
        intent = intent_catalog.by_name(item.annotated_intent or "")
        text = clean_example(item.masked_text)
        if intent is None:
            report.refused.append((item.id, "onbekende intentie"))
            continue
        if not text:
            report.refused.append((item.id, "lege tekst"))
            continue
        if contains_bsn(text):
            report.refused.append((item.id, "bevat een BSN"))
            continue
        if " ".join(text.split()).lower() in heldout:
            report.refused.append((item.id, "staat in een testset"))
            item.exported_at = now  # never train on it; nothing more to do
            continue
        by_file.setdefault((folder / f"{intent.topic}.yml", intent.name), []).append(text)
        item.exported_at = now
    for (path, intent_name), texts in by_file.items():
        added = append_examples(path, intent_name, texts)
        report.written[path.name] = report.written.get(path.name, 0) + added
    return report
