"""Write annotated NLU inbox items to the training data: `data/nlu/<topic>.yml`.

The files stay plain Rasa YAML, diffable and reviewable in git: an example is appended to
its intent's `examples: |` block (a new block at the end when the intent has none there).
Three guards before anything is written: the text passed the masking (it came from the
inbox), it contains no BSN by the 11-proef (baken_core.pii.contains_bsn, a last check),
and it is not in a held-out test set (that would spoil the measurement).

Words the admin marked as entities are written as Rasa markup (`[vesteda](creditor)`) and
added to the entity ruler's phrase list (`data/nlp/entity_patterns.yml`), which is what
recognises entities in Baken's pipeline; a phrase that masking would change (personal
data) is never added.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from baken_core import entity_patterns
from baken_core.paths import PROJECT_ROOT, data_dir
from baken_core.pii import contains_bsn, mask
from handoff.learning import intent_catalog
from handoff.store.models import InboxStatus, NluInboxItem, utcnow

HELDOUT_DIR = PROJECT_ROOT / "data" / "evaluation"
MAX_EXAMPLE_CHARS = 1000


def clean_example(text: str) -> str:
    """One line, no Rasa entity syntax by accident, no control characters."""
    text = "".join(" " if (ord(c) < 32 or ord(c) == 127) else c for c in text)
    text = " ".join(text.split())[:MAX_EXAMPLE_CHARS]
    return text.replace("](", "] (").replace("][", "] [").replace("]{", "] {")


def find_phrase(text: str, phrase: str) -> tuple[int, int] | None:
    """Where `phrase` occurs in `text` as whole words (any case, any spacing), or None."""
    words = [re.escape(w) for w in phrase.split()]
    if not words:
        return None
    found = re.search(r"(?<!\w)" + r"\s+".join(words) + r"(?!\w)", text, re.IGNORECASE)
    return (found.start(), found.end()) if found else None


def personal(phrase: str) -> bool:
    """True when masking would change the phrase: personal data never becomes a pattern."""
    return any(mask(phrase).found.values())  # a BSN is one of the kinds masking finds


def with_entities(text: str, entities: list[dict[str, str]]) -> str:
    """`text` with Rasa entity markup around the marked phrases (first occurrence each)."""
    spans: list[tuple[int, int, str]] = []
    for mark in entities:
        span = find_phrase(text, mark["text"])
        if span and all(span[1] <= s or span[0] >= e for s, e, _ in spans):
            spans.append((span[0], span[1], mark["entity"]))
    out, at = [], 0
    for start, end, entity in sorted(spans):
        before = " " if start and text[start - 1] in "])}" else ""  # "[NAAM][cjib](creditor)" would misparse
        after = " " if text[end : end + 1] in ("[", "(", "{") else ""
        out += [text[at:start], f"{before}[{text[start:end]}]({entity}){after}"]
        at = end
    return "".join([*out, text[at:]])


MARKUP = re.compile(r"\[([^\]]+)\]\([^)]*\)")


def plain(example: str) -> str:
    """An example without entity markup, for comparing: "[cjib](creditor)" → "cjib"."""
    return " ".join(MARKUP.sub(r"\1", example).split()).lower()


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
    existing = {plain(line.strip()[2:]) for line in lines if line.strip().startswith("- ")}
    new = []
    for text in texts:
        if plain(text) not in existing:
            existing.add(plain(text))
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
    patterns_added: list[str] = field(default_factory=list)
    """"label: phrase" for each phrase new to the entity ruler."""

    @property
    def total(self) -> int:
        return sum(self.written.values())


def export_annotated(session: Session, nlu_dir: Path | None = None) -> ExportReport:
    """Write every annotated, not yet exported item to its topic file; mark it exported."""
    folder = nlu_dir or data_dir() / "nlu"
    patterns = folder.parent / entity_patterns.PATTERNS_FILE
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
        marks = [m for m in item.annotated_entities or [] if not personal(m.get("text", ""))]
        for mark in marks:
            if any(ch.isdigit() for ch in mark.get("text", "")):
                continue  # numbers and amounts are the ruler's token rules' job; "250 euro" as a phrase fits one case
            try:
                if entity_patterns.add_phrase(mark["entity"], mark["text"], mark["value"], patterns):
                    report.patterns_added.append(f"{mark['entity']}: {entity_patterns.normalise_phrase(mark['text'])}")
            except (entity_patterns.PatternError, KeyError):
                report.refused.append((item.id, "woord niet als patroon toegevoegd"))
        by_file.setdefault((folder / f"{intent.topic}.yml", intent.name), []).append(with_entities(text, marks))
        item.exported_at = now
    for (path, intent_name), texts in by_file.items():
        added = append_examples(path, intent_name, texts)
        report.written[path.name] = report.written.get(path.name, 0) + added
    return report
