"""Load the trained Rasa model for parsing outside the server (classify, benchmark)."""

from __future__ import annotations

import asyncio
import logging
import os
import warnings
from pathlib import Path
from typing import Any, Dict

from baken_core.paths import PROJECT_ROOT

MODELS_DIR = PROJECT_ROOT / "models"


def quiet() -> None:
    """Keep TensorFlow's and Rasa's chatter off stdout, and citizens' words out of logs.

    Rasa's structlog debug lines include the message text; stdout must carry only results.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
    warnings.filterwarnings("ignore")
    logging.disable(logging.WARNING)
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.ERROR)


def latest_model(directory: Path = MODELS_DIR) -> Path | None:
    """The newest `*.tar.gz` model in `directory`, like `rasa run` picks it."""
    candidates = sorted(directory.glob("*.tar.gz"), key=lambda p: p.stat().st_mtime)
    return candidates[-1] if candidates else None


class Parser:
    """Parses messages with a trained model through Rasa's own NLU graph."""

    def __init__(self, model_path: Path, fast_load: bool = True) -> None:
        from rasa.core.agent import Agent  # heavy import, only when a parser is made

        from baken_nlu import fast_load as loading

        if fast_load:
            loading.install()
        self.model_path = model_path
        self._loop = asyncio.new_event_loop()
        self._agent = Agent.load(str(model_path))

    def parse(self, text: str) -> Dict[str, Any]:
        result: Dict[str, Any] = self._loop.run_until_complete(self._agent.parse_message(text))
        return result

    def close(self) -> None:
        self._loop.close()
