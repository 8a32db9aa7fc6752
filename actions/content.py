"""Read-only content the actions render: the knowledge base (baken_core/knowledge.py) and the
municipality settings.

Both are YAML data under `data/`. The knowledge base is loaded on first use (never at import)
and cached for the life of the action server (restart it after editing); gemeente.yml is read
again when it changes (baken_core/gemeente.py).
"""

from __future__ import annotations

from baken_core.gemeente import gemeente
from baken_core.knowledge import ContentError, Fact, Topic, knowledge

__all__ = ["ContentError", "Fact", "Topic", "gemeente", "gemeente_contact_lines", "gemeente_link", "knowledge"]


def gemeente_link(key: str | None) -> str | None:
    """The municipality's own page for a topic (gemeente.yml `links`); None when empty or unknown."""
    if not key:
        return None
    value = str((gemeente().get("links") or {}).get(key) or "").strip()
    return value or None


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
