"""A real Rasa agent with the trained model and a real action server on a free port."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from typing import Any, Dict, List

import pytest

from baken_core.paths import PROJECT_ROOT
from baken_nlu.model_loader import latest_model, quiet


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def action_server() -> Iterator[str]:
    port = _free_port()
    env = {**os.environ, "PYTHONWARNINGS": "ignore", "TF_CPP_MIN_LOG_LEVEL": "3"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "rasa_sdk", "--actions", "actions", "--port", str(port)],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url + "/health", timeout=2)
            break
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError("action server exited") from None
            time.sleep(0.5)
    else:
        proc.kill()
        raise RuntimeError("action server did not start")
    yield url + "/webhook"
    proc.terminate()
    proc.wait(timeout=30)


class Chat:
    """One citizen's conversation with the assistant."""

    def __init__(self, agent: Any, loop: asyncio.AbstractEventLoop) -> None:
        self.agent = agent
        self.loop = loop
        self.sender = f"test-{uuid.uuid4().hex[:8]}"

    def say(self, text: str) -> List[Dict[str, Any]]:
        result: List[Dict[str, Any]] = self.loop.run_until_complete(self.agent.handle_text(text, sender_id=self.sender))
        return result or []

    def texts(self, text: str) -> str:
        return "\n".join(m.get("text") or "" for m in self.say(text))


@pytest.fixture(scope="session")
def agent(action_server: str) -> Iterator[tuple[Any, asyncio.AbstractEventLoop]]:
    quiet()
    from rasa.core.agent import Agent
    from rasa.utils.endpoints import EndpointConfig

    model = latest_model()
    assert model is not None, "no trained model: run `make train` first"
    loop = asyncio.new_event_loop()
    loaded = Agent.load(str(model), action_endpoint=EndpointConfig(action_server))
    yield loaded, loop
    loop.close()


@pytest.fixture
def chat(agent: tuple[Any, asyncio.AbstractEventLoop]) -> Chat:
    return Chat(*agent)
