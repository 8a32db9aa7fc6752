"""The scaled topology of `make run-scaled` on free ports, with any number of desk processes,
Rasa servers and action servers (1 or 2 of each behind the balancer): for `make bench-scale`.

It uses the same balancer configuration as `make run-scaled` (deploy/haproxy.cfg, ports from
the environment): with one desk process or one action server, both of the balancer's entries
point at it, so every topology goes through HAProxy the same way. All desk processes share
one PostgreSQL database, all Rasa servers one tracker database and Redis as lock store.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from baken_core.paths import PROJECT_ROOT
from baken_core.rasa_endpoints import lock_store, tracker_database
from stack.desk import DeskProcess
from stack.processes import MODEL, RASA_BIN, free_port, start, stop, wait_until_up
from stack.rasa import RasaServer

HAPROXY_CONFIG = PROJECT_ROOT / "deploy" / "haproxy.cfg"
REDIS_URL = os.environ.get("BAKEN_BENCH_REDIS", "redis://127.0.0.1:6379/6")


@dataclass(frozen=True)
class Topology:
    desks: int
    rasas: int
    actions: int

    @property
    def name(self) -> str:
        def count(n: int, one: str, many: str) -> str:
            return f"{n} {one if n == 1 else many}"

        parts = (
            count(self.desks, "desk process", "desk processes"),
            count(self.rasas, "Rasa server", "Rasa servers"),
            count(self.actions, "action server", "action servers"),
        )
        return ", ".join(parts)


@dataclass
class ScaledStack:
    topology: Topology
    balancer_url: str
    desks: list[DeskProcess]
    rasas: list[RasaServer]
    database_url: str
    secret_key_file: Path
    folder: Path
    pids: dict[str, list[int]] = field(default_factory=dict)
    """Process ids per kind (desk, rasa, actions, balancer), for the CPU meter."""

    @property
    def rasa_urls(self) -> list[str]:
        return [r.url for r in self.rasas]


@contextmanager
def scaled_stack(topology: Topology, folder: Path, database_url: str, secret_key: str) -> Iterator[ScaledStack]:
    """Start the topology on `database_url` (an empty PostgreSQL database); stop it afterwards."""
    if not MODEL.exists():
        raise SystemExit("Geen getraind model (models/baken.tar.gz): draai eerst `make train`.")
    haproxy = shutil.which("haproxy")
    if haproxy is None:
        raise SystemExit("HAProxy is nodig: `make haproxy` installeert het.")
    if not 1 <= topology.desks <= 2 or not 1 <= topology.actions <= 2:
        raise ValueError("the balancer configuration has room for one or two desks and action servers")
    folder.mkdir(parents=True, exist_ok=True)
    logs = folder / "logs"
    logs.mkdir(exist_ok=True)
    action_ports = [free_port() for _ in range(topology.actions)]
    desk_ports = [free_port() for _ in range(topology.desks)]
    ports = {
        "BAKEN_PORT_BALANCER": free_port(),
        "BAKEN_PORT_INTERNAL": free_port(),
        "BAKEN_PORT_ACTIONS": free_port(),
        "BAKEN_PORT_DESK_1": desk_ports[0],
        "BAKEN_PORT_DESK_2": desk_ports[-1],
        "BAKEN_PORT_ACTIONS_1": action_ports[0],
        "BAKEN_PORT_ACTIONS_2": action_ports[-1],
    }
    tracker = tracker_database(database_url).rasa_config()
    locks = lock_store(REDIS_URL)
    action_url = f"http://127.0.0.1:{ports['BAKEN_PORT_ACTIONS']}/webhook"
    with ExitStack() as cleanup:
        procs: list[subprocess.Popen[bytes]] = []
        cleanup.callback(_stop_all, procs)
        addresses = {
            "BAKEN_BIND_DESKS": ports["BAKEN_PORT_BALANCER"],
            "BAKEN_BIND_INTERNAL": ports["BAKEN_PORT_INTERNAL"],
            "BAKEN_BIND_ACTIONS": ports["BAKEN_PORT_ACTIONS"],
            "BAKEN_DESK_1": ports["BAKEN_PORT_DESK_1"],
            "BAKEN_DESK_2": ports["BAKEN_PORT_DESK_2"],
            "BAKEN_ACTIONS_1": ports["BAKEN_PORT_ACTIONS_1"],
            "BAKEN_ACTIONS_2": ports["BAKEN_PORT_ACTIONS_2"],
        }
        balancer_env = {**os.environ, **{k: f"127.0.0.1:{v}" for k, v in addresses.items()}}
        procs.append(start([haproxy, "-db", "-f", str(HAPROXY_CONFIG)], logs / "haproxy.log", env=balancer_env))
        actions = []
        for number, port in enumerate(action_ports, start=1):
            command = [str(RASA_BIN / "python"), "-m", "rasa_sdk", "--actions", "actions", "--port", str(port)]
            actions.append(start(command, logs / f"actions-{number}.log"))
        procs.extend(actions)
        rasas = [
            RasaServer(MODEL, folder / f"rasa-{n}", action_url, tracker=tracker, lock_store=locks)
            for n in range(1, topology.rasas + 1)
        ]
        for rasa in rasas:
            rasa.start(wait=False)
            cleanup.callback(rasa.kill)
        secret_key_file = folder / "desk-secret"
        settings = {"SECRET_KEY": secret_key, "SWEEP_INTERVAL_S": "30"}
        if topology.desks > 1:
            settings.update(DESK_PROCESSES=str(topology.desks), ATTACHMENTS_STORE="database")
        rasa_url = ",".join(r.url for r in rasas)
        desks = []
        for number, port in enumerate(desk_ports, start=1):
            desk = DeskProcess(database_url, rasa_url, folder / f"desk-{number}", **settings).on_port(port)
            desk.folder.mkdir(exist_ok=True)
            desk.env["SECRET_KEY_FILE"] = str(secret_key_file)
            desks.append(desk)
            cleanup.callback(desk.kill)
        for number, (port, proc) in enumerate(zip(action_ports, actions, strict=True), start=1):
            wait_until_up(f"http://127.0.0.1:{port}/health", proc, "action server", logs / f"actions-{number}.log")
        for rasa in rasas:
            rasa.wait_ready()
        for desk in desks:  # one after the other: the first one migrates the new database
            desk.start()
        balancer = f"http://127.0.0.1:{ports['BAKEN_PORT_BALANCER']}"
        wait_until_up(f"{balancer}/healthz", procs[0], "HAProxy", logs / "haproxy.log", 30)
        yield ScaledStack(
            topology=topology,
            balancer_url=balancer,
            desks=desks,
            rasas=rasas,
            database_url=database_url,
            secret_key_file=secret_key_file,
            folder=folder,
            pids={
                "desk": [d.pid for d in desks],
                "rasa": [r.pid for r in rasas],
                "actions": [p.pid for p in actions],
                "balancer": [procs[0].pid],
            },
        )


def _stop_all(procs: list[subprocess.Popen[bytes]]) -> None:
    for proc in reversed(procs):
        stop(proc)
