"""Build Baken's Dutch spaCy pipeline from code.

No Dutch spaCy model can be downloaded here, so the pipeline is assembled from
`spacy.blank("nl")`, the lookup lemmatizer with the tables from `spacy-lookups-data`, and an
EntityRuler whose patterns are data (`data/nlp/entity_patterns.yml`). Rasa loads the
result by path through `SpacyNLP` (see config.yml).

Usage: python -m baken_nlu.spacy_pipeline [OUTPUT_DIR]
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import spacy
import yaml
from spacy.language import Language

from baken_core.paths import PROJECT_ROOT, data_dir

DEFAULT_OUTPUT = PROJECT_ROOT / "build" / "spacy_nl_baken"
PATTERNS_FILE = "nlp/entity_patterns.yml"


def load_patterns(path: Path | None = None) -> list[dict[str, Any]]:
    """Expand the pattern file into EntityRuler patterns."""
    source = path or data_dir() / PATTERNS_FILE
    raw: Mapping[str, Any] = yaml.safe_load(source.read_text(encoding="utf-8"))
    patterns: list[dict[str, Any]] = []
    for label, values in (raw.get("phrases") or {}).items():
        for canonical, phrases in values.items():
            for phrase in phrases:
                patterns.append({"label": label, "pattern": str(phrase).lower(), "id": canonical})
    for label, token_patterns in (raw.get("token_patterns") or {}).items():
        for token_pattern in token_patterns:
            patterns.append({"label": label, "pattern": token_pattern})
    return patterns


def build_pipeline(patterns: list[dict[str, Any]] | None = None) -> Language:
    """A blank Dutch pipeline with lookup lemmas and the entity ruler."""
    nlp = spacy.blank("nl")
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    ruler = nlp.add_pipe("entity_ruler", config={"phrase_matcher_attr": "LOWER", "overwrite_ents": True})
    nlp.initialize()
    ruler.add_patterns(patterns if patterns is not None else load_patterns())  # type: ignore[attr-defined]
    nlp.meta["name"] = "nl_baken"
    nlp.meta["description"] = "Baken: blank Dutch + lookup lemmatizer + entity ruler (built from code)"
    return nlp


def source_fingerprint() -> str:
    """A hash of what the pipeline is built from, to know when to rebuild."""
    digest = hashlib.sha256()
    digest.update(Path(__file__).read_bytes())
    digest.update((data_dir() / PATTERNS_FILE).read_bytes())
    digest.update(spacy.__version__.encode())
    return digest.hexdigest()[:16]


def ensure_pipeline(output: Path = DEFAULT_OUTPUT) -> Path:
    """Build the pipeline into `output` unless an up-to-date build is already there."""
    stamp = output / "baken_fingerprint.txt"
    fingerprint = source_fingerprint()
    if stamp.exists() and stamp.read_text().strip() == fingerprint:
        return output
    nlp = build_pipeline()
    output.parent.mkdir(parents=True, exist_ok=True)
    nlp.to_disk(output)
    stamp.write_text(fingerprint + "\n")
    return output


def main(argv: list[str]) -> int:
    output = Path(argv[1]) if len(argv) > 1 else DEFAULT_OUTPUT
    path = ensure_pipeline(output)
    print(f"spaCy pipeline ready: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
