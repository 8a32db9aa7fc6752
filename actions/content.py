"""Read-only content the actions render: the knowledge base (baken_core/knowledge.py) and the
municipality settings.

Both are YAML data under `data/`. The knowledge base is loaded on first use (never at import)
and cached for the life of the action server (restart it after editing); gemeente.yml is read
again when it changes.
"""

from __future__ import annotations

from typing import Any

import yaml

from baken_core.knowledge import ContentError, Fact, Topic, knowledge
from baken_core.paths import data_dir

__all__ = ["ContentError", "Fact", "Topic", "gemeente", "gemeente_contact_lines", "gemeente_link", "knowledge"]

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
