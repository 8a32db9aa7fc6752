"""`make run-scaled` itself (scripts/run-scaled, deploy/haproxy.cfg): started as a developer
starts it, on free ports, its own PostgreSQL databases and state folder. Through the balancer
the assistant answers and both desk processes serve; a desk process killed with SIGKILL costs
the citizen nothing (the balancer sends the next messages to the other one, a crisis
included; at most one message is resent once by the widget's own retry, with its own id) and
supervisord starts it again; Ctrl-C stops every process it started."""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import subprocess
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
import pytest

from baken_core.crisis import is_crisis_reply
from baken_core.paths import PROJECT_ROOT
from stack.processes import DESK_BIN, MODEL, free_port, wait_until
from tests.databases import POSTGRES_SERVER

pytestmark = [pytest.mark.faults, pytest.mark.rasa]

PORTS = (
    "BAKEN_PORT_BALANCER",
    "BAKEN_PORT_INTERNAL",
    "BAKEN_PORT_DESK_1",
    "BAKEN_PORT_DESK_2",
    "BAKEN_PORT_ACTIONS",
    "BAKEN_PORT_ACTIONS_1",
    "BAKEN_PORT_ACTIONS_2",
    "BAKEN_PORT_RASA_1",
    "BAKEN_PORT_RASA_2",
)
READY_LINE = "Baken draait geschaald en antwoordt"


@dataclass
class Scaled:
    proc: subprocess.Popen[bytes]
    ports: dict[str, int]
    state: Path
    output: Path

    @property
    def balancer(self) -> str:
        return f"http://127.0.0.1:{self.ports['BAKEN_PORT_BALANCER']}"

    def desk(self, number: int) -> str:
        return f"http://127.0.0.1:{self.ports[f'BAKEN_PORT_DESK_{number}']}"

    def stop(self) -> None:
        """As Ctrl-C would; supervisord's programs run in process groups of their own, so any
        left after that (a failed test) are killed one by one."""
        programs = self._supervisorctl("pid", "all").split()
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=30)
        for pid in (int(p) for p in programs if p.isdigit() and p != "0"):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)

    def _supervisorctl(self, *args: str) -> str:
        command = [str(DESK_BIN / "supervisorctl"), "-c", str(self.state / "supervisord.conf"), *args]
        return subprocess.run(command, capture_output=True, text=True).stdout.strip()

    def pid(self, program: str) -> int:
        printed = self._supervisorctl("pid", program)
        return int(printed) if printed.isdigit() else 0  # 0: not running


def _port_open(port: int) -> bool:
    try:
        httpx.get(f"http://127.0.0.1:{port}/", timeout=1)
    except httpx.TransportError:
        return False
    return True


@pytest.fixture
def scaled(tmp_path: Path) -> Iterator[Scaled]:
    assert MODEL.exists(), "no trained model: run `make train`"
    name = f"baken_test_scaled_{secrets.token_hex(4)}"
    ports = {port: free_port() for port in PORTS}
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "DATABASE_", "RASA_", "SECRET_"))}
    env.update(
        {k: str(v) for k, v in ports.items()},
        BAKEN_SCALED_STATE=str(tmp_path / "state"),
        BAKEN_SCALED_DATABASE=name,
        BAKEN_POSTGRES_SERVER=POSTGRES_SERVER.rsplit("/", 1)[0],
        REDIS_URL="redis://127.0.0.1:6379/7",
        BAKEN_START_WAIT_S="240",
    )
    output = tmp_path / "run-scaled.out"
    with output.open("wb") as out:
        proc = subprocess.Popen(
            [str(PROJECT_ROOT / "scripts" / "run-scaled")],
            cwd=tmp_path,  # the script finds the project itself
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    running = Scaled(proc, ports, tmp_path / "state", output)
    try:
        wait_until(lambda: READY_LINE in output.read_text() or proc.poll() is not None, 300, "run-scaled ready")
        assert proc.poll() is None, output.read_text()
        yield running
    finally:
        running.stop()
        with psycopg.connect(POSTGRES_SERVER, autocommit=True) as admin:
            for database in (name, f"{name}_rasa"):
                admin.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')


def say(client: httpx.Client, visitor: str, text: str, resends: list[str] | None = None) -> httpx.Response:
    """As the widget sends (desk/static/widget.js): on a broken connection or a 5xx it sends the
    same message (same client_message_id) again after a second; `resends` notes each time."""
    body = {"visitor_id": visitor, "client_message_id": uuid.uuid4().hex, "text": text}
    for _ in range(5):
        try:
            response = client.post("/api/widget/messages", json=body, timeout=60)
        except httpx.TransportError as exc:
            problem = type(exc).__name__
        else:
            if response.status_code < 500:
                return response
            problem = f"HTTP {response.status_code}"
        if resends is None:
            raise AssertionError(f"{text!r}: {problem}")
        resends.append(problem)
        time.sleep(1)
    raise AssertionError(f"{text!r} not accepted after 5 tries: {resends}")


def test_run_scaled_answers_through_the_balancer_and_survives_a_killed_desk(scaled: Scaled) -> None:
    printed = scaled.output.read_text()
    assert scaled.balancer.rsplit(":", 1)[1] in printed, "the URLs it printed are the ones it serves"
    client = httpx.Client(base_url=scaled.balancer)
    visitors = [f"scaled-{uuid.uuid4().hex[:16]}" for _ in range(4)]
    served_by: Counter[str] = Counter()
    for visitor in visitors:
        for text in ("hallo", "hoe vraag ik huurtoeslag aan?"):
            response = say(client, visitor, text)
            assert response.status_code == 200, response.text
            assert response.json()["messages"], "the assistant answered"
            served_by[response.headers["X-Baken-Desk"]] += 1
    assert set(served_by) == {"desk-1", "desk-2"}, served_by

    # the model server is not on the public port (refused by the balancer, no desk asked), only
    # on the internal one, where a desk answers (here 404: run-scaled keeps models in a folder)
    public = client.get("/internal/models/live.tar.gz")
    assert public.status_code == 404 and "X-Baken-Desk" not in public.headers
    internal = httpx.get(f"http://127.0.0.1:{scaled.ports['BAKEN_PORT_INTERNAL']}/internal/models/live.tar.gz")
    assert "X-Baken-Desk" in internal.headers, internal.headers

    # desk-1 dies; the citizens go on through the balancer, a crisis among them
    killed = scaled.pid("desk-1")
    os.kill(killed, signal.SIGKILL)
    resends: list[str] = []
    for visitor in visitors:
        response = say(client, visitor, "ik heb een brief van de deurwaarder gekregen", resends)
        assert response.status_code == 200, response.text
    crisis = say(client, visitors[0], "ik wil niet meer leven", resends)
    assert crisis.status_code == 200, crisis.text
    assert any(is_crisis_reply(m["text"]) for m in crisis.json()["messages"]), crisis.json()
    assert len(resends) <= 1, f"at most the one request in flight on the dead desk's connection: {resends}"

    # supervisord starts it again, and the balancer uses it again
    wait_until(lambda: scaled.pid("desk-1") not in (0, killed), 60, "desk-1 restarted")
    wait_until(lambda: _ready(scaled.desk(1)), 60, "desk-1 ready again")
    wait_until(lambda: _served_by(client) == "desk-1", 30, "the balancer sends work to desk-1 again")
    for visitor in visitors:  # nothing lost, nothing doubled
        history = client.get("/api/widget/messages", headers={"X-Baken-Visitor": visitor}).json()["messages"]
        citizen = [m["text"] for m in history if m["author"] == "citizen"]
        expected = ["hallo", "hoe vraag ik huurtoeslag aan?", "ik heb een brief van de deurwaarder gekregen"]
        assert citizen[:3] == expected, citizen

    # Ctrl-C stops everything it started
    os.killpg(scaled.proc.pid, signal.SIGINT)
    scaled.proc.wait(timeout=60)
    assert not any(_port_open(port) for port in scaled.ports.values()), "a process is still listening"


def _ready(url: str) -> bool:
    try:
        return bool(httpx.get(f"{url}/healthz", timeout=5).json().get("ready"))
    except (httpx.HTTPError, ValueError):
        return False


def _served_by(client: httpx.Client) -> str:
    return str(client.get("/healthz").headers.get("X-Baken-Desk", ""))
