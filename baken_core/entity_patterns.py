"""Read and extend the entity ruler's phrase list (`data/nlp/entity_patterns.yml`).

Entities in Baken come from spaCy's EntityRuler, not from a trained extractor: a phrase
such as "vesteda" is recognised as `creditor` because the pattern file says so. When an
admin marks a word in the NLU inbox as an entity, the phrase is added here (under its
canonical value), so the next model recognises it. The file stays hand-readable: only the
one line that changes is rewritten, comments stay, and the result must load again before
it replaces the old file.

Plain Python (no spaCy): the desk and the Rasa side both use it.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from baken_core.paths import data_dir

PATTERNS_FILE = "nlp/entity_patterns.yml"

MEANINGS = {
    "benefit": "regeling of uitkering (huurtoeslag, bijstand, …)",
    "creditor": "schuldeiser of instantie (CJIB, verhuurder, energiebedrijf, …)",
    "amount": "bedrag",
    "period": "periode (drie maanden, sinds januari, …)",
}
VALUE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
MAX_PHRASE = 60
# Letters (any script), digits, space and a few joiners; nothing that could be Rasa markup
# ([]{}()), a placeholder ([BSN]) or YAML syntax on its own.
PHRASE = re.compile(r"^[\w][\w .'&+/-]*$", re.UNICODE)


YAML_WORDS = {"yes", "no", "on", "off", "null", "true", "false", "y", "n", "~"}


class PatternError(ValueError):
    """The phrase or value cannot be added (the message is for the admin, in Dutch)."""


@dataclass(frozen=True)
class EntityType:
    name: str
    meaning: str
    values: tuple[str, ...]


def patterns_path() -> Path:
    return data_dir() / PATTERNS_FILE


def _load(path: Path) -> dict[str, Any]:
    loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(loaded, dict):
        raise PatternError("Het patroonbestand is geen geldige lijst.")
    return loaded


def normalise_phrase(phrase: str) -> str:
    return " ".join(phrase.split()).lower()


def slug(phrase: str) -> str:
    """A canonical value made from a phrase: "Zilveren Kruis" → "zilveren_kruis"."""
    ascii_text = unicodedata.normalize("NFKD", normalise_phrase(phrase)).encode("ascii", "ignore").decode()
    folded = re.sub(r"[^a-z0-9]+", "_", ascii_text).strip("_")
    if not folded or not folded[0].isalpha():
        folded = "x_" + folded
    return folded[:40].rstrip("_")


def entity_types(path: Path | None = None) -> list[EntityType]:
    """The entity types the ruler knows, with their canonical values (for the admin's list)."""
    raw = _load(path or patterns_path())
    phrases: dict[str, Any] = raw.get("phrases") or {}
    labels = list(MEANINGS) + [label for label in phrases if label not in MEANINGS]
    return [
        EntityType(label, MEANINGS.get(label, label), tuple(sorted((phrases.get(label) or {}).keys())))
        for label in labels
    ]


def known_phrases(label: str, path: Path | None = None) -> dict[str, str]:
    """phrase (lower case) → canonical value, for one label."""
    raw = _load(path or patterns_path())
    values: dict[str, Any] = (raw.get("phrases") or {}).get(label) or {}
    return {normalise_phrase(str(p)): str(value) for value, phrases in values.items() for p in phrases or []}


def check(label: str, phrase: str, value: str) -> None:
    """Raise PatternError with a Dutch message when this cannot become a pattern."""
    if label not in MEANINGS:
        raise PatternError(f"Onbekend soort woord: {label}.")
    text = normalise_phrase(phrase)
    if not text or len(text) > MAX_PHRASE or not PHRASE.match(text):
        raise PatternError("Markeer een woord of een paar woorden, zonder leestekens of [PLAATSHOUDERS].")
    if not VALUE.match(value):
        raise PatternError("De vaste naam bestaat uit kleine letters, cijfers en _, en begint met een letter.")


def _scalar(text: str) -> str:
    """A flow-list item: plain when safe, else a JSON string (valid YAML double-quoted)."""
    if re.fullmatch(r"[a-z0-9\u00c0-\u024f][a-z0-9\u00c0-\u024f .'-]*", text) and text not in YAML_WORDS:
        return text
    return json.dumps(text, ensure_ascii=False)


def _phrases_block(lines: list[str]) -> tuple[int, int]:
    start = next((i for i, line in enumerate(lines) if re.match(r"^phrases:\s*$", line)), None)
    if start is None:
        raise PatternError("Het patroonbestand heeft geen 'phrases:'.")
    end = start + 1
    while end < len(lines) and (not lines[end].strip() or lines[end].startswith((" ", "#"))):
        end += 1
    return start, end


def _triples(raw: dict[str, Any]) -> set[tuple[str, str, str]]:
    return {
        (str(label), str(value), normalise_phrase(str(phrase)))
        for label, values in (raw.get("phrases") or {}).items()
        for value, phrases in (values or {}).items()
        for phrase in phrases or []
    }


def _write_checked(path: Path, text: str, before: set[tuple[str, str, str]], added: tuple[str, str, str]) -> None:
    """Replace the file only if the new text loads and holds exactly the old phrases plus one."""
    try:
        loaded = yaml.safe_load(text)
    except yaml.YAMLError as exc:  # never write a file the pipeline cannot read
        raise PatternError("Het patroonbestand zou ongeldig worden; er is niets veranderd.") from exc
    if not isinstance(loaded, dict) or _triples(loaded) != before | {added}:
        raise PatternError("Het patroon kwam niet goed in het bestand; er is niets veranderd.")
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=".patterns-", suffix=".yml")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def add_phrase(label: str, phrase: str, value: str, path: Path | None = None) -> bool:
    """Add `phrase` under phrases/<label>/<value>; False when the ruler already knows it."""
    check(label, phrase, value)
    target = path or patterns_path()
    text = normalise_phrase(phrase)
    if text in known_phrases(label, target):
        return False
    before = _triples(_load(target))
    lines = target.read_text(encoding="utf-8").splitlines()
    start, end = _phrases_block(lines)
    label_at = next((i for i in range(start + 1, end) if re.match(rf"^  {re.escape(label)}:\s*$", lines[i])), None)
    if label_at is None:
        insert_at = end
        while insert_at > start + 1 and not lines[insert_at - 1].strip():
            insert_at -= 1
        lines[insert_at:insert_at] = [f"  {label}:", f"    {value}: [{_scalar(text)}]"]
    else:
        block_end = label_at + 1
        while block_end < end and (lines[block_end].startswith("    ") or not lines[block_end].strip()):
            block_end += 1
        flow_line = re.compile(rf"^    {re.escape(value)}:\s*\[.*\]\s*$")
        value_at = next((i for i in range(label_at + 1, block_end) if flow_line.match(lines[i])), None)
        if value_at is None:
            last = max((i for i in range(label_at + 1, block_end) if lines[i].strip()), default=label_at)
            lines.insert(last + 1, f"    {value}: [{_scalar(text)}]")
        else:
            lines[value_at] = re.sub(r"\]\s*$", f", {_scalar(text)}]", lines[value_at])
    _write_checked(target, "\n".join(lines) + "\n", before, (label, value, text))
    return True
