"""The Zelfredzaamheid-Matrix 2017: domain slugs, Dutch names and the 1–5 scale.

Source: zrmtraining.nl (ZRM-Handleiding 2017, GGD Amsterdam); scale labels from mijnzrm.nl
(see ../shared/domain/facts.md §4).
"""

from __future__ import annotations

from typing import Final, Literal

Urgency = Literal["normal", "urgent", "crisis"]

URGENCY_ORDER: Final[tuple[Urgency, ...]] = ("normal", "urgent", "crisis")

DOMAINS: Final[dict[str, str]] = {
    "financien": "Financiën",
    "werk_opleiding": "Werk & Opleiding",
    "tijdsbesteding": "Tijdsbesteding",
    "huisvesting": "Huisvesting",
    "huiselijke_relaties": "Huiselijke relaties",
    "geestelijke_gezondheid": "Geestelijke gezondheid",
    "lichamelijke_gezondheid": "Lichamelijke gezondheid",
    "middelengebruik": "Middelengebruik",
    "basale_adl": "Basale ADL",
    "instrumentele_adl": "Instrumentele ADL",
    "sociaal_netwerk": "Sociaal netwerk",
    "maatschappelijke_participatie": "Maatschappelijke participatie",
    "justitie": "Justitie",
}

SCALE: Final[dict[int, str]] = {
    1: "acute problematiek",
    2: "niet zelfredzaam",
    3: "beperkt zelfredzaam",
    4: "voldoende zelfredzaam",
    5: "volledig zelfredzaam",
}

URGENCY_LABELS: Final[dict[str, str]] = {
    "crisis": "crisis",
    "urgent": "urgent (binnen 3 werkdagen)",
    "normal": "normaal",
}


def highest_urgency(*levels: str | None) -> Urgency:
    """The most urgent of the given levels; unknown or empty values count as normal."""
    best: Urgency = "normal"
    for level in levels:
        if level in URGENCY_ORDER and URGENCY_ORDER.index(level) > URGENCY_ORDER.index(best):
            best = level
    return best


def ordered_domains(domains: object) -> list[str]:
    """Known domain slugs from `domains`, deduplicated, in ZRM order."""
    if not isinstance(domains, (list, tuple, set, frozenset)):
        return []
    present = {d for d in domains if isinstance(d, str)}
    return [slug for slug in DOMAINS if slug in present]
