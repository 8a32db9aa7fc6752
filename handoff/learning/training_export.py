"""Take annotated NLU inbox items into the training data: rows in `training_examples`.

Issue 14: no citizen text in git. An annotation is stored in the desk's database with its
provenance (inbox item, message, conversation; who annotated it and when), so the citizen's
erasure deletes it, and is merged into a copy of data/ only when a model is trained
(training_data.py). Nothing here writes under data/.

Guards before an example is stored (and again at merge time): the text passed the masking
(it came from the inbox), it contains no BSN by the 11-proef (baken_core.pii.contains_bsn, a
last check), it is not in a held-out test set (that would spoil the measurement), and it is
not already one of the git-tracked training lines.

Words the admin marked as entities become Rasa markup (`[vesteda](creditor)`) and phrases
for the entity ruler in the merged copy; a phrase that masking would change (personal data)
never becomes either, and a phrase with digits is markup only (the ruler's number rules
find amounts).

How long an example is kept: while it is training data. It goes when an admin deletes it
(the admin page), or with the citizen's erasure as long as the conversation it came from
exists; conversation retention (90 days after closing by default) only cuts that link,
after which the example is masked text tied to nobody in Baken. Models trained earlier keep
what they learned from it; the next training goes without it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from baken_core import entity_patterns
from baken_core.paths import PROJECT_ROOT, data_dir
from baken_core.pii import contains_bsn, mask
from baken_core.training_lines import FOLDED_SETS, plain, training_lines
from handoff.learning import intent_catalog
from handoff.store.models import InboxStatus, Message, NluInboxItem, TrainingExample, utcnow

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


def heldout_texts(folder: Path = HELDOUT_DIR, folded: Sequence[str] = FOLDED_SETS) -> set[str]:
    """The texts of the evaluation sets that are still measured (never trained on); the folded
    read sets are training data (their texts are training lines: "staat al in de trainingsdata")."""
    texts: set[str] = set()
    for path in folder.glob("*.jsonl"):
        if path.name in folded:
            continue
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


def ruler_phrases(marks: list[dict[str, str]]) -> list[dict[str, str]]:
    """The marks that become entity ruler phrases: not personal, without digits."""
    return [
        m
        for m in marks
        if not personal(m.get("text", ""))
        and not any(ch.isdigit() for ch in m.get("text", ""))  # "250 euro" as a phrase fits one case
    ]


def known_ruler_phrases(data: Path) -> set[str]:
    """ "label: phrase" for every phrase the git-tracked pattern file already has."""
    path = data / entity_patterns.PATTERNS_FILE
    return {
        f"{label}: {phrase}"
        for label in entity_patterns.MEANINGS
        for phrase in entity_patterns.known_phrases(label, path)
    }


@dataclass
class ExportReport:
    written: dict[str, int] = field(default_factory=dict)
    """Examples stored per topic (the `data/nlu/<topic>.yml` they join at training time)."""
    refused: list[tuple[int, str]] = field(default_factory=list)
    patterns_added: list[str] = field(default_factory=list)
    """"label: phrase" for each phrase new to the entity ruler (from the next training on)."""

    @property
    def total(self) -> int:
        return sum(self.written.values())


def _refuse(item: NluInboxItem, text: str, heldout: set[str], existing: set[str]) -> tuple[str, bool] | None:
    """Why this item cannot become an example, and whether that is for good; None: it can."""
    if intent_catalog.by_name(item.annotated_intent or "") is None:
        return "onbekende intentie", False
    if not text:
        return "lege tekst", False
    if contains_bsn(text):
        return "bevat een BSN", False
    if " ".join(text.split()).lower() in heldout:
        return "staat in een testset", True  # never train on it; nothing more to do
    if plain(text) in existing:
        return "staat al in de trainingsdata", True
    return None


def export_annotated(session: Session, data: Path | None = None) -> ExportReport:
    """Store every annotated, not yet exported item as a training example; mark it exported.

    `data` is the git-tracked data folder the examples are compared with (read only)."""
    base = data or data_dir()
    report = ExportReport()
    heldout = heldout_texts()
    existing = training_lines(base)
    phrases = known_ruler_phrases(base)
    for stored in session.scalars(select(TrainingExample.entities)):
        phrases.update(f"{m['entity']}: {entity_patterns.normalise_phrase(m['text'])}" for m in stored or [])
    items = session.scalars(
        select(NluInboxItem)
        .where(NluInboxItem.status == InboxStatus.annotated, NluInboxItem.exported_at.is_(None))
        .order_by(NluInboxItem.id)
    ).all()
    now = utcnow()
    for item in items:
        text = clean_example(item.masked_text)
        refused = _refuse(item, text, heldout, existing)
        if refused is not None:
            report.refused.append((item.id, refused[0]))
            if refused[1]:
                item.exported_at = now
            continue
        intent = intent_catalog.by_name(item.annotated_intent or "")
        assert intent is not None
        marks = [m for m in item.annotated_entities or [] if not personal(m.get("text", ""))]
        for mark in ruler_phrases(marks):
            try:
                entity_patterns.check(mark["entity"], mark["text"], mark["value"])
            except (entity_patterns.PatternError, KeyError):
                report.refused.append((item.id, "woord niet als patroon toegevoegd"))
                continue
            phrase = f"{mark['entity']}: {entity_patterns.normalise_phrase(mark['text'])}"
            if phrase not in phrases:
                phrases.add(phrase)
                report.patterns_added.append(phrase)
        message = session.get(Message, item.message_id) if item.message_id is not None else None
        session.add(
            TrainingExample(
                intent=intent.name,
                text=text,
                entities=marks or None,
                inbox_item_id=item.id,
                message_id=item.message_id,
                conversation_id=message.conversation_id if message is not None else None,
                annotated_by=item.annotated_by,
                annotated_at=item.annotated_at,
                created_at=now,
            )
        )
        report.written[intent.topic] = report.written.get(intent.topic, 0) + 1
        item.exported_at = now
    session.flush()
    return report
