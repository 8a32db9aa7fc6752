"""Test kinds, for `make test-fast` (which runs every test that is none of them).

    rasa      needs the trained model, a Rasa server or the action server
    browser   drives headless Chromium
    training  trains a Rasa model
    faults    kills, pauses or restarts processes (SIGKILL, SIGSTOP, PostgreSQL restarts)

A test is marked by the fixtures it uses (below), so a new test that asks for `rasa_url` is
a Rasa test without anyone remembering to say so; files that load the model themselves
say it with `pytestmark`. The kinds are registered in pyproject.toml (strict markers).
"""

from __future__ import annotations

import pytest

BY_FIXTURE: dict[str, tuple[str, ...]] = {
    "rasa_url": ("rasa",),  # tests/assistants.py: a real Rasa server and action server
    "agent": ("rasa",),  # tests/dialogue/conftest.py: the trained model in-process
    "action_server": ("rasa",),
    "own_rasa": ("rasa",),  # tests/desk/test_retrain.py
    "browser": ("browser",),  # tests/desk/test_browser.py
    "new_page": ("browser",),
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        for name in getattr(item, "fixturenames", ()):
            for kind in BY_FIXTURE.get(name, ()):
                item.add_marker(kind)
