"""The training data's example lines as plain text, for comparing texts with them.

Plain Python (PyYAML only): the desk's export guards (handoff/learning) and the Rasa side's
folding of read held-out sets (baken_nlu/read_sets.py) compare texts the same way.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

MARKUP = re.compile(r"\[([^\]]+)\]\([^)]*\)")

FOLDED_SETS = (
    "heldout_fresh.jsonl",
    "heldout_fresh2.jsonl",
    "heldout_fresh3.jsonl",
    "heldout_fresh4.jsonl",
    "heldout_fresh5.jsonl",
    "heldout_fresh6.jsonl",
    "heldout_fresh7.jsonl",
    "heldout_fresh8.jsonl",
    "heldout_new_topics.jsonl",
    "heldout_fresh9.jsonl",
    "heldout_fresh10.jsonl",
    "heldout_fresh11.jsonl",
    "heldout_fresh12.jsonl",
    "heldout_fresh13.jsonl",
)
"""Read held-out sets that are training data since 2026-12-07 (fresh9-13 since 20:40 UTC; oldest first;
baken_nlu/read_sets.py folds them into data/nlu/read_sets.yml). Their texts count as training lines,
not as test texts."""


def plain(example: str) -> str:
    """An example without entity markup, for comparing: "[cjib](creditor)" → "cjib"."""
    return " ".join(MARKUP.sub(r"\1", example).split()).lower()


def _examples(data: Path, skip: str | None = None) -> Iterator[tuple[dict[str, Any], str]]:
    """(block, plain() example) of every example line in `<data>/nlu/*.yml`, but the file named `skip`."""
    for path in sorted((data / "nlu").glob("*.yml")):
        if path.name == skip:
            continue
        loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for block in loaded.get("nlu") or []:
            examples = block.get("examples") if isinstance(block, dict) else None
            if isinstance(examples, str):
                for line in examples.splitlines():
                    if line.strip().startswith("- "):
                        yield block, plain(line.strip()[2:])


def training_lines(data: Path, skip: str | None = None) -> set[str]:
    """Every example of the training data (`<data>/nlu/*.yml`, but the file named `skip`), as plain() text."""
    return {text for _, text in _examples(data, skip)}


def training_intents(data: Path, prefer: str) -> dict[str, str]:
    """plain() example → its intent (`prefer` wins when one text is under two intents)."""
    intents: dict[str, str] = {}
    for block, text in _examples(data):
        if block.get("intent") and intents.get(text) != prefer:
            intents[text] = str(block["intent"])
    return intents
