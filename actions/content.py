"""Read-only content the actions render: the knowledge base and the municipality settings.

Both are YAML data under `data/`. They are loaded on first use (never at import) and cached
for the life of the action server; restart it after editing the files.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import yaml

from baken_core.paths import data_dir

REQUIRED_KEYS = ("intent", "title", "answer", "for_whom", "provider", "how_to_apply", "link", "checked_on")


@dataclass(frozen=True)
class Fact:
    text: str
    year: int
    source: str


@dataclass(frozen=True)
class Topic:
    """One knowledge-base entry: the practical answer to one intent."""

    intent: str
    title: str
    answer: str
    for_whom: str
    provider: str
    how_to_apply: str
    link: str
    link_title: str
    checked_on: str
    local: bool = False
    urgent: bool = False
    facts: tuple[Fact, ...] = field(default=())


class ContentError(ValueError):
    """A content file is malformed; the message says which entry."""


def _topic(entry: dict[str, Any], source: str) -> Topic:
    missing = [k for k in REQUIRED_KEYS if not entry.get(k)]
    if missing:
        raise ContentError(f"{source}: entry {entry.get('intent')!r} lacks {missing}")
    facts = []
    for fact in entry.get("facts") or []:
        if not (fact.get("text") and fact.get("year") and fact.get("source")):
            raise ContentError(f"{source}: a fact of {entry['intent']} lacks text, year or source")
        facts.append(Fact(str(fact["text"]), int(fact["year"]), str(fact["source"])))
    return Topic(
        intent=str(entry["intent"]),
        title=str(entry["title"]).strip(),
        answer=" ".join(str(entry["answer"]).split()),
        for_whom=" ".join(str(entry["for_whom"]).split()),
        provider=str(entry["provider"]).strip(),
        how_to_apply=" ".join(str(entry["how_to_apply"]).split()),
        link=str(entry["link"]).strip(),
        link_title=str(entry.get("link_title") or entry["link"]).strip(),
        checked_on=str(entry["checked_on"]),
        local=bool(entry.get("local")),
        urgent=bool(entry.get("urgent")),
        facts=tuple(facts),
    )


@lru_cache(maxsize=1)
def knowledge() -> dict[str, Topic]:
    """All topics by intent name, from `data/knowledge/*.yml`."""
    topics: dict[str, Topic] = {}
    for path in sorted((data_dir() / "knowledge").glob("*.yml")):
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for entry in raw.get("topics") or []:
            topic = _topic(entry, path.name)
            if topic.intent in topics:
                raise ContentError(f"{path.name}: intent {topic.intent} is answered twice")
            topics[topic.intent] = topic
    return topics


_GEMEENTE: dict[str, tuple[float, dict[str, Any]]] = {}


def gemeente() -> dict[str, Any]:
    """The municipality settings from `data/gemeente.yml`, read again when the file changes
    (an admin edits office hours and contact details in the desk's admin page)."""
    path = data_dir() / "gemeente.yml"
    mtime = path.stat().st_mtime
    cached = _GEMEENTE.get(str(path))
    if cached is not None and cached[0] == mtime:
        return cached[1]
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(raw, dict) or not raw.get("name"):
        raise ContentError("gemeente.yml: a mapping with at least 'name' is required")
    _GEMEENTE[str(path)] = (mtime, raw)
    return raw


def gemeente_contact_lines() -> list[str]:
    """How to reach the local wijkteam, for showing under an answer."""
    settings = gemeente()
    team = settings.get("wijkteam") or {}
    lines = [f"{team.get('name') or settings['name']}:"]
    if team.get("phone"):
        lines.append(f"☎ {team['phone']}")
    if team.get("website"):
        lines.append(f"🌐 {team['website']}")
    if team.get("email"):
        lines.append(f"✉ {team['email']}")
    hours = (settings.get("opening_hours") or {}).get("text")
    if hours:
        lines.append(f"Bereikbaar {hours}.")
    return lines
