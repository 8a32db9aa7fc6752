"""The one loader of `data/gemeente.yml`: the municipality's name, office hours, wijkteam
contact and local links. Used by the actions (answers, handoff), the desk (office hours at
start) and the admin's settings page (which edits the file).

Read again whenever the file changes (its modification time and size), so an admin's edit
holds at once in every process without a restart.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from baken_core.knowledge import ContentError
from baken_core.paths import data_dir

_CACHE: dict[str, tuple[tuple[int, int], dict[str, Any]]] = {}


def gemeente_path() -> Path:
    return data_dir() / "gemeente.yml"


def gemeente() -> dict[str, Any]:
    """The settings as a mapping; ContentError when the file is not a mapping with a name."""
    path = gemeente_path()
    stat = path.stat()
    stamp = (stat.st_mtime_ns, stat.st_size)
    cached = _CACHE.get(str(path))
    if cached is not None and cached[0] == stamp:
        return cached[1]
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(raw, dict) or not raw.get("name"):
        raise ContentError("gemeente.yml: a mapping with at least 'name' is required")
    _CACHE[str(path)] = (stamp, raw)
    return raw
