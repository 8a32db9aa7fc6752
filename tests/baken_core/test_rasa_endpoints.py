"""Rasa always gets a persistent tracker store, derived from the desk's database URL."""

from __future__ import annotations

from pathlib import Path

import pytest

from baken_core import rasa_endpoints
from baken_core.paths import PROJECT_ROOT
from baken_core.rasa_endpoints import endpoints, tracker_database


def test_sqlite_desk_gives_a_tracker_file_of_its_own_beside_it() -> None:
    tracker = tracker_database("sqlite:///var/baken.db")
    assert tracker.rasa_config() == {
        "type": "baken_nlu.tracker_store.FencedSQLTrackerStore",
        "dialect": "sqlite",
        "db": str(PROJECT_ROOT / "var" / "rasa-trackers.db"),
    }
    assert tracker.sqlalchemy_url() == f"sqlite:///{PROJECT_ROOT / 'var' / 'rasa-trackers.db'}"


def test_postgresql_desk_gives_a_database_of_its_own_on_the_same_server() -> None:
    tracker = tracker_database("postgresql+psycopg://baken:g%40heim@db.local:5433/baken")
    config = tracker.rasa_config()
    assert config["dialect"] == "postgresql" and config["db"] == "baken_rasa" and config["login_db"] == "postgres"
    assert (config["url"], config["port"], config["username"], config["password"]) == (
        "db.local",
        5433,
        "baken",
        "g@heim",
    )
    assert tracker.sqlalchemy_url() == "postgresql+psycopg://baken:g%40heim@db.local:5433/baken_rasa"


def test_an_explicit_tracker_url_wins_and_redis_adds_a_lock_store() -> None:
    config = endpoints(
        {"action_endpoint": {"url": "http://localhost:5055/webhook"}},
        {
            "DATABASE_URL": "sqlite:///var/baken.db",
            "RASA_TRACKER_URL": "postgresql://r@h/trackers",
            "REDIS_URL": "redis://h:6380/3",
        },
    )
    assert config["tracker_store"]["db"] == "trackers"
    assert config["lock_store"] == {"type": "redis", "url": "h", "port": 6380, "db": 3}
    assert "lock_store" not in endpoints({}, {})


def test_other_databases_are_refused() -> None:
    with pytest.raises(ValueError):
        tracker_database("mysql://x@y/z")


def test_an_action_endpoint_from_the_environment_replaces_the_projects() -> None:
    base = {"action_endpoint": {"url": "http://localhost:5055/webhook"}}
    config = endpoints(base, {"ACTION_ENDPOINT_URL": "http://127.0.0.1:15055/webhook"})
    assert config["action_endpoint"] == {"url": "http://127.0.0.1:15055/webhook"}
    assert endpoints(base, {})["action_endpoint"] == base["action_endpoint"]


MODEL_ENV = {"MODEL_SERVER_URL": "http://balancer:8000/", "MODEL_SERVER_TOKEN": "s" * 40}


def test_the_desks_model_server_gives_rasa_a_models_section_with_the_token_in_a_header() -> None:
    config = endpoints({}, {**MODEL_ENV, "MODEL_PULL_INTERVAL_S": "15"})
    assert config["models"] == {
        "url": "http://balancer:8000/internal/models/live.tar.gz",
        "headers": {"Authorization": f"Bearer {'s' * 40}"},
        "wait_time_between_pulls": 15,
    }
    assert endpoints({}, MODEL_ENV)["models"]["wait_time_between_pulls"] == 60
    # the embedded default: no section, Rasa loads --model from its own disk
    assert "models" not in endpoints({}, {})
    assert "models" not in endpoints({}, {"MODEL_SERVER_URL": "http://balancer:8000"})


def test_the_written_file_is_readable_by_its_owner_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in MODEL_ENV.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'baken.db'}")
    out = tmp_path / "var" / "endpoints.yml"
    assert rasa_endpoints.main(["rasa_endpoints", str(out)]) == 0
    assert out.stat().st_mode & 0o777 == 0o600
    assert "Bearer" in out.read_text(encoding="utf-8")
