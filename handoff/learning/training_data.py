"""The data a model is trained on: the git-tracked data/ plus the database's examples.

The training job copies data/ into a folder of its own (outside git, deleted when the job
ends) and adds every stored `TrainingExample` there: the example to its intent's
`nlu/<topic>.yml` (Rasa markup for the marked words), the marked words to the copy's
`nlp/entity_patterns.yml`. Rasa validates and trains with `BAKEN_DATA_DIR` pointing at the
copy, so the spaCy pipeline's entity ruler is built from the merged patterns the same way
`make train` builds it from data/ (baken_nlu.spacy_pipeline reads `data_dir()`; the Rasa side
needs no desk code). The repository's data/ is only read.

Every guard of training_export.py runs again here, because data/ may have changed since an
example was stored (a new held-out set, the same line added by hand, an intent renamed).
Each text goes in once, however many citizens wrote it: the rows stay one per source, so
that one citizen's erasure takes only their own row.
"""

from __future__ import annotations

import hashlib
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from baken_core import entity_patterns
from baken_core.paths import PROJECT_ROOT, data_dir
from baken_core.pii import contains_bsn
from handoff.learning import intent_catalog
from handoff.learning.training_export import (
    append_examples,
    heldout_texts,
    personal,
    plain,
    ruler_phrases,
    training_lines,
    with_entities,
)
from handoff.store.models import TrainingExample


@dataclass
class MergeReport:
    added: dict[str, int] = field(default_factory=dict)
    """Examples added per topic file."""
    skipped: list[tuple[int, str]] = field(default_factory=list)
    """(example id, why), in Dutch for the admin."""
    phrases: list[str] = field(default_factory=list)
    """"label: phrase" added to the copy's entity ruler patterns."""

    @property
    def total(self) -> int:
        return sum(self.added.values())


def _skip(text: str, heldout: set[str], seen: set[str]) -> str | None:
    if contains_bsn(text):
        return "bevat een BSN"
    if " ".join(text.split()).lower() in heldout:
        return "staat in een testset"
    if plain(text) in seen:
        return "staat al in de trainingsdata"
    return None


def merge(session: Session, out: Path, source: Path | None = None) -> MergeReport:
    """Copy `source` (data/) to `out`, a new folder, and add the database's examples to the copy."""
    base = source or data_dir()
    shutil.copytree(base, out)
    report = MergeReport()
    heldout = heldout_texts()
    seen = training_lines(base)
    patterns = out / entity_patterns.PATTERNS_FILE
    by_file: dict[tuple[str, str], list[str]] = {}
    for example in session.scalars(select(TrainingExample).order_by(TrainingExample.id)):
        intent = intent_catalog.by_name(example.intent)
        why = _skip(example.text, heldout, seen) if intent is not None else "onbekende intentie"
        if why is not None or intent is None:
            report.skipped.append((example.id, why or "onbekende intentie"))
            continue
        seen.add(plain(example.text))
        marks = [m for m in example.entities or [] if not personal(m.get("text", ""))]
        by_file.setdefault((intent.topic, intent.name), []).append(with_entities(example.text, marks))
        for mark in ruler_phrases(marks):
            try:
                if entity_patterns.add_phrase(mark["entity"], mark["text"], mark["value"], patterns):
                    report.phrases.append(f"{mark['entity']}: {entity_patterns.normalise_phrase(mark['text'])}")
            except (entity_patterns.PatternError, KeyError):
                report.skipped.append((example.id, "woord niet als patroon toegevoegd"))
    for (topic, intent_name), texts in by_file.items():
        added = append_examples(out / "nlu" / f"{topic}.yml", intent_name, texts)
        report.added[f"{topic}.yml"] = report.added.get(f"{topic}.yml", 0) + added
    return report


DATA_INPUTS = ("domain", "config.yml")
"""Besides the merged data: what else a model is trained from (model_registry.DATA_INPUTS)."""


def merged_hash(merged: Path, root: Path = PROJECT_ROOT) -> str:
    """SHA-256 over the merged data and the other training inputs, file names included: the
    registry's data hash of what a model was really trained on."""
    digest = hashlib.sha256()
    inputs = [(merged, Path("data"))] + [(root / name, Path(name)) for name in DATA_INPUTS]
    for path, name in inputs:
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            if file.exists():
                digest.update(str(name / file.relative_to(path) if path.is_dir() else name).encode())
                digest.update(file.read_bytes())
    return digest.hexdigest()
