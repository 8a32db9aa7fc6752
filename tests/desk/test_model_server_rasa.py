"""Models reach Rasa over HTTP from the desk's database (MODELS_STORE=database), as on many
machines: a real Rasa server and a real desk on PostgreSQL, and no model file on any disk
either process could read (the Rasa server starts from an empty folder; the desk's files are
deleted once they are in the database).

1. Rasa without a `models:` section: promotion sends `PUT /model {"model_server": ...}` with
   the version's URL and the token in a header; Rasa downloads and loads that version.
2. Rasa restarted with the `models:` section baken_core/rasa_endpoints.py writes: it pulls
   the live model from the desk when it starts.
3. With that section Rasa 3.6 ignores the PUT's body and pulls the live URL
   (rasa/core/agent.py `load_agent`): a rollback still lands, because the desk marks the
   version live before it asks.
Rasa's /status names the file by the `filename` header the desk sends, so it says which
version Rasa has.
"""

from __future__ import annotations

import gzip
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from baken_core.rasa_endpoints import model_server
from handoff import auth
from handoff.learning.model_store import DatabaseModelStore
from handoff.store.db import create_engine, session_factory
from handoff.store.models import ModelStatus, ModelVersion, Role
from stack.desk import desk_server
from stack.processes import MODEL, free_port
from stack.rasa import RasaServer
from tests.databases import temporary_postgres_database
from tests.handoff.inbox.test_api import PASSWORD

pytestmark = [pytest.mark.rasa]

TOKEN = "model-server-token-for-this-test-only-0123456789"
CANDIDATE = "baken-20261206-073000-000001"


@dataclass
class Setup:
    desk_url: str
    database_url: str
    rasa: RasaServer
    admin: httpx.Client
    start_name: str


def _wait_listening(rasa: RasaServer, seconds: float = 240) -> None:
    """Until Rasa answers on / (its /status is a 409 while it has no model)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert rasa.proc is not None and rasa.proc.poll() is None, rasa.log.read_text(errors="replace")[-2000:]
        try:
            httpx.get(rasa.url, timeout=2)
            return
        except httpx.HTTPError:
            time.sleep(0.5)
    raise AssertionError(f"Rasa did not listen within {seconds} s")


def loaded_model(rasa: RasaServer) -> str | None:
    response = httpx.get(f"{rasa.url}/status", timeout=10)
    return response.json()["model_file"] if response.status_code == 200 else None


def understands(rasa: RasaServer) -> str:
    response = httpx.post(f"{rasa.url}/model/parse", json={"text": "hoe vraag ik huurtoeslag aan"}, timeout=60)
    response.raise_for_status()
    name: str = response.json()["intent"]["name"]
    return name


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[Setup]:
    assert MODEL.exists(), "no trained model: run `make train`"
    start_file = tmp_path / "desk" / "baken.tar.gz"  # the model `make train` built, as the desk has it
    start_file.parent.mkdir()
    shutil.copyfile(MODEL, start_file)
    empty = tmp_path / "rasa-has-no-models"
    empty.mkdir()
    rasa = RasaServer(empty, tmp_path / "rasa", "http://127.0.0.1:9/webhook")
    port = free_port()
    with (
        temporary_postgres_database() as database_url,
        desk_server(
            tmp_path,
            rasa.url,
            database_url,
            port=port,
            models_store="database",
            models_dir=str(tmp_path / "desk" / "registry"),
            live_model_path=str(start_file),
            model_server_url=f"http://127.0.0.1:{port}",
            model_server_token=TOKEN,
        ) as (desk_url, _),
    ):
        sessions = session_factory(create_engine(database_url))
        with sessions.begin() as session:
            auth.create_worker(session, "bram", PASSWORD, Role.admin)
        admin = httpx.Client(base_url=desk_url, timeout=600)
        login = admin.post("/api/auth/login", json={"name": "bram", "password": PASSWORD})
        assert login.status_code == 200, login.text
        admin.headers[auth.CSRF_HEADER] = login.json()["csrf_token"]
        registry = admin.get("/api/admin/models").json()  # registers the start model (into the database)
        start_name = next(v["name"] for v in registry["versions"] if v["id"] == registry["live_id"])
        # A model trained on another desk machine: in the database only. It differs from the
        # start model by an empty gzip member at the end (same archive, its own SHA-256).
        candidate = tmp_path / "elsewhere.tar.gz"
        shutil.copyfile(start_file, candidate)
        with candidate.open("ab") as handle:
            handle.write(gzip.compress(b"\0" * 1024))
        DatabaseModelStore(sessions).put(CANDIDATE, candidate)
        with sessions.begin() as session:
            session.add(
                ModelVersion(
                    name=CANDIDATE,
                    path=str(candidate),
                    status=ModelStatus.ready,
                    metrics={"accuracy": 0.95, "crisis_recall": 1.0},
                )
            )
        candidate.unlink()
        start_file.unlink()
        assert not list((tmp_path / "desk").rglob("*.tar.gz")), "the desk must serve from the database only"
        try:
            yield Setup(desk_url, database_url, rasa, admin, start_name)
        finally:
            admin.close()
            rasa.kill()


def _version_id(setup: Setup, name: str) -> int:
    versions = setup.admin.get("/api/admin/models").json()["versions"]
    return int(next(v["id"] for v in versions if v["name"] == name))


def test_rasa_gets_its_models_from_the_desks_database_over_http(setup: Setup) -> None:
    rasa, admin = setup.rasa, setup.admin
    timings: dict[str, float] = {}

    # The download itself: 110 MB streamed from PostgreSQL through the desk.
    started = time.monotonic()
    with httpx.stream(
        "GET", f"{setup.desk_url}/internal/models/{CANDIDATE}.tar.gz", headers={"Authorization": f"Bearer {TOKEN}"}
    ) as response:
        assert response.status_code == 200
        size = sum(len(chunk) for chunk in response.iter_bytes())
    timings[f"download {size / 1e6:.0f} MB"] = time.monotonic() - started

    # 1. A Rasa with no model and no models section: promotion names the version's URL.
    rasa.start(wait=False)
    _wait_listening(rasa)
    assert loaded_model(rasa) is None
    started = time.monotonic()
    promoted = admin.post(f"/api/admin/models/{_version_id(setup, CANDIDATE)}/promote", json={})
    timings["promote (Rasa downloads and loads)"] = time.monotonic() - started
    assert promoted.status_code == 200, promoted.text
    assert loaded_model(rasa) == f"{CANDIDATE}.tar.gz"
    assert understands(rasa) == "ask_huurtoeslag"

    # 2. Restarted with the models section: it pulls the live model when it starts.
    rasa.kill()
    rasa.configure(
        "models",
        model_server({"MODEL_SERVER_URL": setup.desk_url, "MODEL_SERVER_TOKEN": TOKEN, "MODEL_PULL_INTERVAL_S": "3"}),
    )
    started = time.monotonic()
    rasa.start(wait=False)
    _wait_listening(rasa)
    timings["start with the models section until it listens"] = time.monotonic() - started
    assert loaded_model(rasa) == f"{CANDIDATE}.tar.gz"

    # 3. Roll back with that section: Rasa pulls live.tar.gz, which names the start model.
    rollback = admin.post(f"/api/admin/models/{_version_id(setup, setup.start_name)}/promote", json={})
    assert rollback.status_code == 200, rollback.text
    assert loaded_model(rasa) == f"{setup.start_name}.tar.gz"
    assert understands(rasa) == "ask_huurtoeslag"
    # ... and its pulls every 3 s find nothing new (304): still the start model
    time.sleep(7)
    assert loaded_model(rasa) == f"{setup.start_name}.tar.gz"
    for what, seconds in timings.items():
        print(f"{what}: {seconds:.1f} s")
