"""The knowledge base (`data/knowledge/*.yml`): practical answers with their facts and sources.

Plain Python, shared by the action server (which renders answers) and the desk (whose admin
dashboard lists what expires soon and what was checked long ago).

A fact carries its source, the source's year and a life span: `valid_from` / `valid_until`
(an amount for 2026 is valid until 2026-12-31). A fact outside its life span is never shown:
the answer says less instead. A fact with an amount or a year in its text must have a
`valid_until` (the loader refuses it otherwise).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from baken_core.paths import data_dir
from baken_core.text import dutch_date

REQUIRED_KEYS = ("intent", "title", "answer", "for_whom", "provider", "how_to_apply", "link", "checked_on")
NEEDS_AN_END = re.compile(r"€|\b(19|20)\d\d\b")
"""A fact that names an amount or a year stops being true some day."""
_DATED = re.compile(r"^(?P<where>.*?)\s*\((?P<when>[^()]*\b(19|20)\d\d\b[^()]*)\)\s*$")


class ContentError(ValueError):
    """A content file is malformed; the message says which entry."""


@dataclass(frozen=True)
class Fact:
    text: str
    year: int
    """The year of the source."""
    source: str
    valid_from: dt.date | None = None
    valid_until: dt.date | None = None

    def valid_on(self, day: dt.date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_until is None or day <= self.valid_until
        )


@dataclass(frozen=True)
class Source:
    """One source of an entry, as the citizen reads it: where, and when it was written."""

    where: str
    when: str | None
    """'24-11-2025', '2023', 'april 2025'; None when the source has no date."""


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
    checked_on: dt.date
    local: bool = False
    urgent: bool = False
    unknown: bool = False
    """facts.md has nothing checked on this topic: the answer says so and offers a person."""
    next_step: bool = False
    """The answer ends with something concrete the citizen does (apply, call, go to the
    voedselbank): the desk may offer one check-in a week later (handoff/store/followups.py)."""
    local_link: str | None = None
    """Key of the municipality's own page for this topic in gemeente.yml `links` (shown when set there)."""
    facts: tuple[Fact, ...] = field(default=())
    sources: tuple[Source, ...] = field(default=())

    def facts_on(self, day: dt.date) -> tuple[Fact, ...]:
        return tuple(fact for fact in self.facts if fact.valid_on(day))

    def dated_source(self, day: dt.date) -> Source | None:
        """The newest dated source: of a fact still valid, else of the entry's source list."""
        facts = sorted(self.facts_on(day), key=lambda f: f.year, reverse=True)
        if facts:
            return Source(facts[0].source, str(facts[0].year))
        return next((s for s in self.sources if s.when), None)


def _date(value: Any, where: str) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError as exc:
        raise ContentError(f"{where}: {value!r} is not a date like 2026-12-31") from exc


def _fact(raw: dict[str, Any], where: str) -> Fact:
    if not (raw.get("text") and raw.get("year") and raw.get("source")):
        raise ContentError(f"{where}: a fact lacks text, year or source")
    fact = Fact(
        text=" ".join(str(raw["text"]).split()),
        year=int(raw["year"]),
        source=str(raw["source"]).strip(),
        valid_from=_date(raw.get("valid_from"), where),
        valid_until=_date(raw.get("valid_until"), where),
    )
    if NEEDS_AN_END.search(fact.text) and fact.valid_until is None and not raw.get("lasting"):
        raise ContentError(
            f"{where}: the fact {fact.text[:40]!r}… names an amount or a year: give it a valid_until "
            "(or lasting: true when the year only says since when, 'Sinds 2021 …')"
        )
    return fact


def _source(raw: Any) -> Source:
    text = " ".join(str(raw).split())
    match = _DATED.match(text)
    if match:
        return Source(match.group("where"), match.group("when").strip())
    return Source(re.sub(r"\s*\(zonder datum\)\s*$", "", text), None)


def _topic(entry: dict[str, Any], source: str) -> Topic:
    missing = [k for k in REQUIRED_KEYS if not entry.get(k)]
    if missing:
        raise ContentError(f"{source}: entry {entry.get('intent')!r} lacks {missing}")
    where = f"{source}: {entry['intent']}"
    checked = _date(entry["checked_on"], where)
    assert checked is not None
    return Topic(
        intent=str(entry["intent"]),
        title=str(entry["title"]).strip(),
        answer=" ".join(str(entry["answer"]).split()),
        for_whom=" ".join(str(entry["for_whom"]).split()),
        provider=str(entry["provider"]).strip(),
        how_to_apply=" ".join(str(entry["how_to_apply"]).split()),
        link=str(entry["link"]).strip(),
        link_title=str(entry.get("link_title") or entry["link"]).strip(),
        checked_on=checked,
        local=bool(entry.get("local")),
        urgent=bool(entry.get("urgent")),
        next_step=bool(entry.get("next_step")),
        unknown=bool(entry.get("unknown")),
        local_link=str(entry["local_link"]) if entry.get("local_link") else None,
        facts=tuple(_fact(f, where) for f in entry.get("facts") or []),
        sources=tuple(_source(s) for s in entry.get("sources") or []),
    )


def load_knowledge(folder: Path | None = None) -> dict[str, Topic]:
    """All topics by intent name, from `data/knowledge/*.yml` (or `folder`)."""
    topics: dict[str, Topic] = {}
    for path in sorted((folder or data_dir() / "knowledge").glob("*.yml")):
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for entry in raw.get("topics") or []:
            topic = _topic(entry, path.name)
            if topic.intent in topics:
                raise ContentError(f"{path.name}: intent {topic.intent} is answered twice")
            topics[topic.intent] = topic
    return topics


@lru_cache(maxsize=1)
def knowledge() -> dict[str, Topic]:
    """The project's knowledge base, loaded once per process."""
    return load_knowledge()


@dataclass(frozen=True)
class Attention:
    """Content an editor should look at, for the admin dashboard."""

    intent: str
    title: str
    why: str
    """'verloopt op 31 december 2026', 'verlopen op …', 'gecontroleerd op …', 'geen bron met datum'."""
    day: dt.date | None = None


def needs_attention(
    topics: dict[str, Topic], today: dt.date, *, expiring_within_days: int = 60, check_older_than_days: int = 180
) -> list[Attention]:
    """Facts that expire within the window (or have expired), checks older than the age,
    and entries without any dated source; soonest first."""
    found: list[Attention] = []
    horizon = today + dt.timedelta(days=expiring_within_days)
    for topic in topics.values():
        ends = sorted({f.valid_until for f in topic.facts if f.valid_until is not None and f.valid_until <= horizon})
        for end in ends:
            verb = "verlopen" if end < today else "verloopt"
            found.append(Attention(topic.intent, topic.title, f"een feit {verb} op {dutch_date(end)}", end))
        if topic.checked_on < today - dt.timedelta(days=check_older_than_days):
            found.append(
                Attention(
                    topic.intent, topic.title, f"gecontroleerd op {dutch_date(topic.checked_on)}", topic.checked_on
                )
            )
        if topic.dated_source(today) is None:
            found.append(Attention(topic.intent, topic.title, "geen bron met een datum"))
    return sorted(found, key=lambda a: (a.day or dt.date.max, a.intent))
