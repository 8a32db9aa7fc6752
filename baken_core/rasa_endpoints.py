"""Where Rasa keeps its conversations, and the endpoints file Rasa starts with.

Rasa's default tracker store lives in memory: a restart or a model swap (`PUT /model`,
what promote and roll back do) forgets every conversation. Baken always gives Rasa an SQL
tracker store, derived from the desk's DATABASE_URL unless RASA_TRACKER_URL says otherwise:
- SQLite (the embedded default): a file of its own beside the desk's, `rasa-trackers.db`;
- PostgreSQL: the same server, a database of its own, `<desk database>_rasa` (Rasa
  creates it on first start through `login_db`).
REDIS_URL, when set, gives Rasa a Redis lock store; otherwise it keeps its in-memory one.
MODEL_SERVER_URL and MODEL_SERVER_TOKEN, when both are set, give Rasa a `models:` section:
it loads the desk's live model over HTTP when it starts (instead of `--model`) and asks again
every MODEL_PULL_INTERVAL_S seconds (60), so a Rasa server on another machine, or one that
restarts, serves the promoted model (handoff/learning/model_server_api.py).

Plain Python (both virtual environments use it): the desk reads `tracker_url` to delete
the trackers of closed conversations; `python -m baken_core.rasa_endpoints OUT` writes the
endpoints file for `rasa run --endpoints OUT` (the Procfile does).
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import yaml

from baken_core.paths import PROJECT_ROOT

DEFAULT_DESK_DATABASE = "sqlite:///var/baken.db"
TRACKER_FILE = "rasa-trackers.db"
TRACKER_STORE_TYPE = "baken_nlu.tracker_store.FencedSQLTrackerStore"
"""Rasa's SQL tracker store with a fence against a late save by a second replica (issue 13)."""


@dataclass(frozen=True)
class TrackerDatabase:
    dialect: str
    """"sqlite" or "postgresql"."""
    database: str
    """A file path (SQLite) or a database name (PostgreSQL)."""
    host: str | None = None
    port: int | None = None
    username: str | None = None
    password: str | None = None

    def rasa_config(self) -> dict[str, Any]:
        """The `tracker_store` section of Rasa's endpoints.yml."""
        if self.dialect == "sqlite":
            return {"type": TRACKER_STORE_TYPE, "dialect": "sqlite", "db": self.database}
        config: dict[str, Any] = {
            "type": TRACKER_STORE_TYPE,
            "dialect": "postgresql",
            "url": self.host or "localhost",
            "port": self.port or 5432,
            "db": self.database,
            "login_db": "postgres",
        }
        if self.username:
            config["username"] = self.username
        if self.password:
            config["password"] = self.password
        return config

    def sqlalchemy_url(self, driver: str = "psycopg") -> str:
        """An SQLAlchemy URL for the desk (which has psycopg 3; Rasa brings psycopg2)."""
        if self.dialect == "sqlite":
            return f"sqlite:///{self.database}"
        auth = ""
        if self.username:
            auth = quote(self.username, safe="") + (f":{quote(self.password, safe='')}" if self.password else "") + "@"
        return f"postgresql+{driver}://{auth}{self.host or 'localhost'}:{self.port or 5432}/{self.database}"


def _sqlite_path(url: str) -> Path:
    raw = url.split(":///", 1)[1] if ":///" in url else ""
    path = Path(raw)
    return path if path.is_absolute() else PROJECT_ROOT / path


def tracker_database(desk_url: str | None = None, override: str | None = None) -> TrackerDatabase:
    """Rasa's tracker database for a desk database URL (or the explicit `override` URL)."""
    if override:
        return _parse(override, own=False)
    return _parse(desk_url or DEFAULT_DESK_DATABASE, own=True)


def _parse(url: str, *, own: bool) -> TrackerDatabase:
    scheme = url.split(":", 1)[0].split("+", 1)[0]
    if scheme == "sqlite":
        path = _sqlite_path(url)
        return TrackerDatabase("sqlite", str(path.with_name(TRACKER_FILE) if own else path))
    if scheme in ("postgresql", "postgres"):
        parts = urlsplit(url)
        name = unquote(parts.path.lstrip("/")) or "baken"
        return TrackerDatabase(
            "postgresql",
            f"{name}_rasa" if own else name,
            host=parts.hostname,
            port=parts.port,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
        )
    raise ValueError(f"Rasa's tracker store supports SQLite and PostgreSQL, not {scheme!r}")


def lock_store(redis_url: str | None) -> dict[str, Any] | None:
    if not redis_url:
        return None
    parts = urlsplit(redis_url)
    config: dict[str, Any] = {"type": "redis", "url": parts.hostname or "localhost", "port": parts.port or 6379}
    database = parts.path.lstrip("/")
    config["db"] = int(database) if database.isdigit() else 0
    if parts.password:
        config["password"] = unquote(parts.password)
    return config


LIVE_MODEL_PATH = "/internal/models/live.tar.gz"
DEFAULT_PULL_INTERVAL_S = 60


def model_server(env: dict[str, str]) -> dict[str, Any] | None:
    """The `models:` section: Rasa 3.6 (rasa/core/agent.py) GETs `url` with these `headers`
    and `If-None-Match: <ETag it has>`, loads a 200's body, keeps a 304's model, and repeats
    every `wait_time_between_pulls` seconds. The token goes in a header: Rasa's own `token`
    option would put it in the URL's query string."""
    url, token = env.get("MODEL_SERVER_URL", "").strip(), env.get("MODEL_SERVER_TOKEN", "").strip()
    if not url or not token:
        return None
    interval = env.get("MODEL_PULL_INTERVAL_S", "").strip()
    return {
        "url": url.rstrip("/") + LIVE_MODEL_PATH,
        "headers": {"Authorization": f"Bearer {token}"},
        "wait_time_between_pulls": int(interval) if interval else DEFAULT_PULL_INTERVAL_S,
    }


def endpoints(base: dict[str, Any], env: dict[str, str]) -> dict[str, Any]:
    """`base` (the project's endpoints.yml) with the tracker store, the lock store and the
    model server filled in."""
    result = dict(base)
    if env.get("ACTION_ENDPOINT_URL"):  # e.g. a balancer in front of several action servers
        result["action_endpoint"] = {**result.get("action_endpoint", {}), "url": env["ACTION_ENDPOINT_URL"]}
    result["tracker_store"] = tracker_database(env.get("DATABASE_URL"), env.get("RASA_TRACKER_URL")).rasa_config()
    locks = lock_store(env.get("REDIS_URL"))
    if locks is not None:
        result["lock_store"] = locks
    models = model_server(env)
    if models is not None:
        result["models"] = models
    return result


def _dotenv(path: Path) -> dict[str, str]:
    """The few settings this needs from `.env` (the desk reads the same file)."""
    values: dict[str, str] = {}
    if not path.exists():
        return values
    for line in path.read_text(encoding="utf-8").splitlines():
        key, sep, value = line.strip().partition("=")
        if sep and not key.startswith("#"):
            values[key.strip()] = value.strip().strip("'\"")
    return values


def main(argv: list[str]) -> int:
    out = Path(argv[1]) if len(argv) > 1 else PROJECT_ROOT / "var" / "endpoints.yml"
    env = {**_dotenv(PROJECT_ROOT / ".env"), **os.environ}
    base = yaml.safe_load((PROJECT_ROOT / "endpoints.yml").read_text(encoding="utf-8")) or {}
    config = endpoints(base, env)
    tracker = config["tracker_store"]
    if tracker.get("dialect") == "sqlite":
        Path(tracker["db"]).parent.mkdir(parents=True, exist_ok=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.touch(mode=0o600)
    out.chmod(0o600)  # it may hold the database password and the model server's token
    out.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
