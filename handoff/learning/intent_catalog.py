"""The intents an admin can choose from, with their topic and meaning: data/intents.yml.

One source: the catalogue in data/intents.yml (intent, topic, meaning). The topic is the
training file the intent's examples live in (`data/nlu/<topic>.yml`); docs/intents.md says
how intents and topics are named across data/, domain/, actions/ and tests/.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from baken_core.paths import data_dir


@dataclass(frozen=True)
class Intent:
    name: str
    topic: str
    meaning: str


def catalogue_path() -> Path:
    return data_dir() / "intents.yml"


def parse(text: str) -> list[Intent]:
    raw = yaml.safe_load(text) or {}
    return [Intent(str(i["intent"]), str(i["topic"]), str(i["meaning"])) for i in raw.get("catalogue") or []]


@lru_cache(maxsize=4)
def _load(path: Path) -> tuple[Intent, ...]:
    return tuple(parse(path.read_text(encoding="utf-8")))


def intents(path: Path | None = None) -> tuple[Intent, ...]:
    return _load(path or catalogue_path())


def by_name(name: str) -> Intent | None:
    return next((i for i in intents() if i.name == name), None)
