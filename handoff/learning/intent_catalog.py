"""The intents an admin can choose from, with their topic and meaning: docs/intents.md.

One source: the contract table in docs/intents.md (topic, intent, meaning). The topic is
the training file the intent's examples live in (`data/nlu/<topic>.yml`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from baken_core.paths import PROJECT_ROOT

INTENTS_DOC = PROJECT_ROOT / "docs" / "intents.md"
_ROW = re.compile(r"^\|\s*([a-z_]+)\s*\|\s*`([a-z_]+)`\s*\|\s*(.+?)\s*\|\s*$")


@dataclass(frozen=True)
class Intent:
    name: str
    topic: str
    meaning: str


def parse(markdown: str) -> list[Intent]:
    return [Intent(m.group(2), m.group(1), m.group(3)) for m in map(_ROW.match, markdown.splitlines()) if m]


@lru_cache(maxsize=1)
def intents(path: Path = INTENTS_DOC) -> tuple[Intent, ...]:
    return tuple(parse(path.read_text(encoding="utf-8")))


def by_name(name: str) -> Intent | None:
    return next((i for i in intents() if i.name == name), None)
