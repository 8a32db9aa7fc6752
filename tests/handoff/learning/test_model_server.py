"""The desk's internal model server and promotion by download, on SQLite and PostgreSQL:
only Rasa's token opens it, the ETag is the file's SHA-256 (304 when Rasa has it), the body
is the stored model; promotion tells Rasa to download the version from the desk, and puts
the old model back live when no Rasa server could load it. (The same against a real Rasa
server: tests/desk/test_model_server_rasa.py.)"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr, ValidationError
from sqlalchemy import select

from bot.rasa_client import RasaClient
from desk.app import create_app
from handoff import auth
from handoff.config import DeskSettings
from handoff.learning import model_registry, promotion
from handoff.learning.model_store import DatabaseModelStore
from handoff.store.db import create_engine, session_factory
from handoff.store.models import AuditLog, ModelStatus, ModelVersion, Role
from tests.handoff.inbox.test_api import PASSWORD, as_worker, login

TOKEN = "t" * 40
SERVER = "http://desk.internal:8000"


@dataclass
class FakeRasa:
    """Rasa's HTTP API as far as promotion uses it: records each PUT /model body."""

    loads: list[dict[str, Any]] = field(default_factory=list)
    refuse: bool = False

    def handle(self, request: httpx.Request) -> httpx.Response:
        if request.method == "PUT" and request.url.path == "/model":
            self.loads.append(json.loads(request.content))
            return httpx.Response(400 if self.refuse else 204)
        return httpx.Response(200, json={"ready": True})

    def client(self) -> RasaClient:
        return RasaClient("http://rasa.test", transport=httpx.MockTransport(self.handle), model_token=TOKEN)


@dataclass
class Desk:
    client: TestClient
    url: str
    rasa: FakeRasa
    start_model: bytes


@pytest.fixture
def desk(database_url: str, tmp_path: Path) -> Iterator[Desk]:
    live_file = tmp_path / "rasa-start" / "baken.tar.gz"
    live_file.parent.mkdir()
    live_file.write_bytes(os.urandom(300_000))
    settings = DeskSettings(
        database_url=database_url,
        secret_key_file=str(tmp_path / "secret"),
        models_dir=str(tmp_path / "registry"),
        live_model_path=str(live_file),
        models_store="database",
        model_server_url=SERVER,
        model_server_token=SecretStr(TOKEN),
    )
    rasa = FakeRasa()
    with TestClient(create_app(settings, rasa_client=rasa.client)) as client:
        with session_factory(create_engine(database_url)).begin() as session:
            auth.create_worker(session, "bram", PASSWORD, Role.admin)
        yield Desk(client, database_url, rasa, live_file.read_bytes())


def bearer(token: str = TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_only_rasas_token_opens_the_model_server(desk: Desk) -> None:
    client = desk.client
    missing = client.get("/internal/models/live.tar.gz")
    assert missing.status_code == 401 and missing.headers["www-authenticate"] == "Bearer"
    assert client.get("/internal/models/live.tar.gz", params={"token": TOKEN}).status_code == 401  # not in a URL
    assert client.get("/internal/models/live.tar.gz", headers={"Authorization": TOKEN}).status_code == 401
    assert client.get("/internal/models/live.tar.gz", headers=bearer("x" * 40)).status_code == 403
    assert client.get("/internal/models/live.tar.gz", headers=bearer(TOKEN[:-1])).status_code == 403
    assert "/internal/models" not in json.dumps(client.get("/openapi.json").json()["paths"])


def test_the_live_model_streams_with_its_sha256_as_etag_and_304_when_rasa_has_it(desk: Desk) -> None:
    client = desk.client
    with client.stream("GET", "/internal/models/live.tar.gz", headers=bearer()) as response:
        assert response.status_code == 200
        body = b"".join(response.iter_bytes())
        headers = response.headers
    assert body == desk.start_model  # the model Rasa started with, registered on first use
    tag = f'"{hashlib.sha256(body).hexdigest()}"'
    assert headers["etag"] == tag and headers["content-length"] == str(len(body))
    assert headers["filename"].startswith("start-") and headers["filename"].endswith(".tar.gz")
    # Rasa sends back the ETag it keeps as the model's fingerprint
    again = client.get("/internal/models/live.tar.gz", headers={**bearer(), "If-None-Match": tag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == tag
    assert client.get("/internal/models/live.tar.gz", headers={**bearer(), "If-None-Match": "None"}).status_code == 200
    by_name = client.get(f"/internal/models/{headers['filename']}", headers=bearer())
    assert by_name.content == body
    for path in ("nope.tar.gz", "live.zip", "..%2Fsecret.tar.gz", "a.b.tar.gz"):
        assert client.get(f"/internal/models/{path}", headers=bearer()).status_code == 404


def _candidate(database_url: str, tmp_path: Path) -> tuple[int, bytes]:
    """A trained model (ready, scored well) stored in the database; its local file is gone."""
    sessions = session_factory(create_engine(database_url))
    local = tmp_path / "trained-elsewhere.tar.gz"
    local.write_bytes(os.urandom(200_000))
    DatabaseModelStore(sessions).put("baken-20261206-070000-000001", local)
    content = local.read_bytes()
    local.unlink()
    with sessions.begin() as session:
        version = ModelVersion(
            name="baken-20261206-070000-000001",
            path=str(local),
            status=ModelStatus.ready,
            metrics={"accuracy": 0.95, "crisis_recall": 1.0},
        )
        session.add(version)
        session.flush()
        return version.id, content


def test_promotion_sends_rasa_the_download_url_and_the_live_model_follows(desk: Desk, tmp_path: Path) -> None:
    client = desk.client
    admin = login(client, "bram")
    assert as_worker(client, admin, "GET", "/api/admin/models").json()["live_id"] is not None
    version_id, content = _candidate(desk.url, tmp_path)

    response = as_worker(client, admin, "POST", f"/api/admin/models/{version_id}/promote", json={})
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "live"
    (load,) = desk.rasa.loads
    assert load == {
        "model_server": {
            "url": f"{SERVER}/internal/models/baken-20261206-070000-000001.tar.gz",
            "wait_time_between_pulls": None,
            "headers": {"Authorization": f"Bearer {TOKEN}"},
        }
    }
    # what Rasa then downloads: the version, and the live model is now the same file
    path = load["model_server"]["url"].removeprefix(SERVER)
    assert client.get(path, headers=load["model_server"]["headers"]).content == content
    live = client.get("/internal/models/live.tar.gz", headers=bearer())
    assert live.content == content and live.headers["filename"] == "baken-20261206-070000-000001.tar.gz"


def test_when_no_rasa_can_load_it_the_old_model_stays_live(desk: Desk, tmp_path: Path) -> None:
    client = desk.client
    admin = login(client, "bram")
    before = as_worker(client, admin, "GET", "/api/admin/models").json()["live_id"]
    version_id, _ = _candidate(desk.url, tmp_path)
    desk.rasa.refuse = True

    response = as_worker(client, admin, "POST", f"/api/admin/models/{version_id}/promote", json={})
    assert response.status_code == 503
    assert as_worker(client, admin, "GET", "/api/admin/models").json()["live_id"] == before
    assert client.get("/internal/models/live.tar.gz", headers=bearer()).content == desk.start_model
    with session_factory(create_engine(desk.url))() as session:
        candidate = session.get(ModelVersion, version_id)
        assert candidate is not None and candidate.status is ModelStatus.ready and candidate.promoted_at is None
        actions = [a.action for a in session.scalars(select(AuditLog).order_by(AuditLog.id))]
    assert actions[-2:] == ["promote_model", "promote_model_undone"]


def test_the_model_server_needs_a_token_and_is_off_without_one(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="MODEL_SERVER_TOKEN"):
        DeskSettings(models_store="database")
    with pytest.raises(ValidationError, match="MODEL_SERVER_TOKEN"):
        DeskSettings(model_server_url=SERVER, model_server_token=SecretStr("short"))
    with pytest.raises(ValidationError, match="http"):
        DeskSettings(model_server_url="balancer:8000", model_server_token=SecretStr(TOKEN))
    assert (
        DeskSettings(model_server_url=SERVER + "/", model_server_token=SecretStr(TOKEN)).model_server_base() == SERVER
    )
    settings = DeskSettings(database_url=f"sqlite:///{tmp_path / 'd.db'}", secret_key_file=str(tmp_path / "s"))
    with TestClient(create_app(settings)) as client:
        assert client.get("/internal/models/live.tar.gz", headers=bearer()).status_code == 404


def test_without_a_model_server_url_a_model_in_the_database_is_written_out_for_rasa(
    database_url: str, tmp_path: Path
) -> None:
    """MODELS_STORE=database with Rasa on the desk's machine: Rasa still gets a path, so a model
    another desk process trained is first copied from the database to its registry path."""
    sessions = session_factory(create_engine(database_url))
    with sessions.begin() as session:
        admin_id = auth.create_worker(session, "bram", PASSWORD, Role.admin).id
    version_id, content = _candidate(database_url, tmp_path)
    loaded: list[bytes] = []

    class Rasa:
        async def resume(self, sender_id: str) -> None: ...

        async def readiness(self) -> str:
            return "ready"

        async def replace_model(self, model_file: str, timeout_s: float = 300.0) -> None:
            loaded.append(Path(model_file).read_bytes())

    asyncio.run(
        promotion.promote(
            sessions,
            Rasa(),
            version_id,
            admin_id,
            None,
            model_registry.Gate(),
            tmp_path / "live" / "baken.tar.gz",
            DatabaseModelStore(sessions),
            None,
        )
    )
    assert loaded == [content] and (tmp_path / "live" / "baken.tar.gz").read_bytes() == content
    with sessions() as session:
        live = model_registry.live(session)
        assert live is not None and live.id == version_id
