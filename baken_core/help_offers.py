"""Informal, collective and formal help by life domain (`data/knowledge/informal_help.yml`).

Plain Python, shared: the assistant's next step (actions/triage.py) offers the informal and
group offers of the person's domains beside a professional; the desk's close dialog lists
every offer as a place a worker referred to; the dashboard counts referrals per kind.
Offers marked `example` are fictional examples for Gemeente Voorbeeld.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import yaml

from baken_core.knowledge import ContentError
from baken_core.paths import data_dir
from baken_core.zrm import DOMAINS

Kind = Literal["formal", "informal"]
KINDS: tuple[Kind, ...] = ("formal", "informal")


@dataclass(frozen=True)
class Offer:
    key: str
    name: str
    kind: Kind
    group: bool
    """A group or neighbourhood offer (collective), not one-to-one."""
    domains: tuple[str, ...]
    """Empty: any domain."""
    text: str = ""
    link: str | None = None
    link_from_gemeente: str | None = None
    """A key of `links` in data/gemeente.yml that, when set, replaces `link`."""
    example: bool = False
    other: bool = False
    """"Something else" of its kind: for the close dialog only, never offered to a citizen."""
    source: str | None = None
    checked: str | None = None

    def fits(self, domain: str) -> bool:
        return not self.domains or domain in self.domains


def _offer(raw: dict[str, Any]) -> Offer:
    key = str(raw.get("key") or "")
    kind = raw.get("kind")
    if not key or kind not in KINDS or not raw.get("name"):
        raise ContentError(f"informal_help.yml: offer {key or '?'} needs a key, a name and kind formal/informal")
    domains = tuple(str(d) for d in raw.get("domains") or [])
    unknown = [d for d in domains if d not in DOMAINS]
    if unknown:
        raise ContentError(f"informal_help.yml: offer {key} has unknown domains {unknown}")
    example, other = bool(raw.get("example")), bool(raw.get("other"))
    if not example and not other and not raw.get("source"):
        raise ContentError(f"informal_help.yml: {key} is a real organisation and needs a source (or example: true)")
    return Offer(
        key=key,
        name=str(raw["name"]),
        kind=kind,
        group=bool(raw.get("group")),
        domains=domains,
        text=str(raw.get("text") or ""),
        link=str(raw["link"]) if raw.get("link") else None,
        link_from_gemeente=str(raw["link_from_gemeente"]) if raw.get("link_from_gemeente") else None,
        example=example,
        other=other,
        source=str(raw["source"]) if raw.get("source") else None,
        checked=str(raw["checked"]) if raw.get("checked") else None,
    )


def load_offers(path: Path | None = None) -> tuple[Offer, ...]:
    raw = yaml.safe_load((path or data_dir() / "knowledge" / "informal_help.yml").read_text(encoding="utf-8")) or {}
    offers = tuple(_offer(entry) for entry in raw.get("offers") or [])
    keys = [o.key for o in offers]
    if len(keys) != len(set(keys)):
        raise ContentError("informal_help.yml: an offer key is used twice")
    return offers


@lru_cache(maxsize=1)
def offers() -> tuple[Offer, ...]:
    """The project's offers, loaded once per process."""
    return load_offers()


def by_key() -> dict[str, Offer]:
    return {o.key: o for o in offers()}


def for_domains(domains: list[str], kind: Kind = "informal", every: tuple[Offer, ...] | None = None) -> list[Offer]:
    """Offers of `kind` for these domains, the person's first domain first; group offers after
    one-to-one ones of the same domain; never an "other" entry. No domains: the offers for financien."""
    wanted = [d for d in domains if d in DOMAINS] or ["financien"]
    found: list[Offer] = []
    for domain in wanted:
        fitting = [o for o in (every or offers()) if o.kind == kind and not o.other and domain in o.domains]
        for offer in sorted(fitting, key=lambda o: o.group):
            if offer not in found:
                found.append(offer)
    return found
