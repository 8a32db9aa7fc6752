"""The assistant for the desk's tests: the real one (`rasa_url`: a Rasa server and action
server of the session's own, stack/rasa.py) or the scripted one (`stub_rasa`:
tests/rasa_stub.py, for API tests where what the assistant understands is not what is tested).

Conftests import these fixtures (a fixture imported into a conftest is registered there).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from stack.processes import MODEL
from stack.rasa import rasa_stack
from tests.rasa_stub import StubRasa


@pytest.fixture(scope="session")
def rasa_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the session's Rasa server keeps its files; its tracker store is `rasa/trackers.db`."""
    return tmp_path_factory.mktemp("rasa")


@pytest.fixture(scope="session")
def rasa_url(rasa_folder: Path) -> Iterator[str]:
    assert MODEL.exists(), "no trained model: run `make train`"
    with rasa_stack(MODEL, rasa_folder) as url:
        yield url


@pytest.fixture
def stub_rasa() -> StubRasa:
    return StubRasa()
