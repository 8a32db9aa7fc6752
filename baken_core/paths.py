"""Where the project's data files live (overridable for tests and deployments)."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def data_dir() -> Path:
    """The project's `data/` folder, or `BAKEN_DATA_DIR` when set."""
    override = os.environ.get("BAKEN_DATA_DIR")
    return Path(override) if override else PROJECT_ROOT / "data"
