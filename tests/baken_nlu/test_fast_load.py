"""The faster model loading (baken_nlu/fast_load.py) patches Rasa's internals: a model
loaded either way must parse every message exactly the same."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from baken_core.paths import PROJECT_ROOT
from baken_nlu import fast_load
from baken_nlu.model_loader import MODELS_DIR, Parser, quiet

pytestmark = pytest.mark.rasa  # the trained model

MODEL = MODELS_DIR / "baken.tar.gz"


@pytest.fixture
def rasa_loader() -> Iterator[None]:
    fast_load.uninstall()
    yield
    fast_load.install()


def parses(parser: Parser, texts: list[str]) -> list[tuple[str, float, str]]:
    out = []
    for text in texts:
        result = parser.parse(text)
        out.append((result["intent"]["name"], round(result["intent"]["confidence"], 5), result["triage"]["urgency"]))
    return out


def test_a_fast_loaded_model_parses_exactly_like_rasas_own(rasa_loader: None) -> None:
    quiet()
    lines = (PROJECT_ROOT / "data" / "evaluation" / "heldout.jsonl").read_text(encoding="utf-8").splitlines()
    texts = [json.loads(line)["text"] for line in lines[::4]]
    slow = Parser(MODEL, fast_load=False)
    expected = parses(slow, texts)
    slow.close()
    fast = Parser(MODEL)
    assert parses(fast, texts) == expected
    fast.close()
