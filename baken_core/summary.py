"""The Dutch summary a social worker reads when a conversation is handed over.

Plain Python so the desk can rebuild or extend it. The citizen never has to tell their
story twice: the worker sees urgency, the life domains with their ZRM scores, what the
person already tried, who can help, what the assistant answered, and their own words.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from baken_core.zrm import DOMAINS, SCALE, URGENCY_LABELS, ordered_domains


@dataclass(frozen=True)
class TriageRecord:
    """Everything the summary is made from."""

    urgency: str = "normal"
    domains: Sequence[str] = ()
    scores: Mapping[str, int] = field(default_factory=dict)
    tried: str | None = None
    network: str | None = None
    answered: Sequence[str] = ()
    citizen_words: Sequence[str] = ()
    mentioned: Mapping[str, Sequence[str]] = field(default_factory=dict)
    """Entities the citizen named, by label (creditor, benefit, amount, period)."""


MENTIONED_LABELS = {
    "creditor": "Instanties en schuldeisers",
    "benefit": "Regelingen",
    "amount": "Bedragen",
    "period": "Periodes",
}


def lowest_score(scores: Mapping[str, int]) -> int | None:
    """The most worrying ZRM score given, if any."""
    return min(scores.values()) if scores else None


def build_summary(record: TriageRecord) -> str:
    """A compact Dutch summary for the worker's queue and inbox."""
    lines = [f"Urgentie: {URGENCY_LABELS.get(record.urgency, record.urgency)}"]
    domains = ordered_domains(list(record.domains) + list(record.scores))
    if domains:
        lines.append("Leefgebieden:")
        for slug in domains:
            score = record.scores.get(slug)
            rating = f"{score} – {SCALE[score]}" if score in SCALE else "genoemd, niet gescoord"
            lines.append(f"- {DOMAINS[slug]}: {rating}")
    else:
        lines.append("Leefgebieden: nog niet bekend")
    if record.tried or record.network:
        lines.append("Eigen kracht:")
        if record.tried:
            lines.append(f"- Zelf al geprobeerd: {record.tried}")
        if record.network:
            lines.append(f"- Hulp uit de omgeving: {record.network}")
    named = [
        f"- {title}: " + ", ".join(record.mentioned[label])
        for label, title in MENTIONED_LABELS.items()
        if record.mentioned.get(label)
    ]
    if named:
        lines.append("Genoemd:")
        lines.extend(named)
    if record.answered:
        lines.append("Al beantwoord door de assistent: " + ", ".join(record.answered))
    if record.citizen_words:
        lines.append("In eigen woorden:")
        lines.extend(f'- "{words}"' for words in record.citizen_words)
    return "\n".join(lines)
