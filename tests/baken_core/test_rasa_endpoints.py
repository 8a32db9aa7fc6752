"""Rasa always gets a persistent tracker store, derived from the desk's database URL."""

from __future__ import annotations

import pytest

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
