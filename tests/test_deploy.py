"""The deployment description for many machines (compose.yaml, deploy/): this machine has no
Docker daemon, so it is checked here, not run. Every setting it gives the desk is one the desk
knows, and together they pass the desk's multi-process checks; Rasa gets the tracker database
the PostgreSQL init script makes and the action servers behind the balancer; HAProxy accepts
the balancer configuration with compose's addresses; the images run the commands that
`make run-scaled` runs."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from typing import Any

import pytest
import yaml

from baken_core.paths import PROJECT_ROOT
from baken_core.rasa_endpoints import endpoints
from bot.rasa_pool import replica_urls
from handoff.config import DeskSettings

COMPOSE = PROJECT_ROOT / "compose.yaml"
VARIABLE = re.compile(r"\$\{(\w+)(?::?[-?][^}]*)?\}")
SET_BY_OPERATOR = {"POSTGRES_PASSWORD": "een-geheim-wachtwoord", "SECRET_KEY": "k" * 48, "MODEL_SERVER_TOKEN": "m" * 43}


def _filled(value: Any) -> str:
    """A compose value with the operator's variables filled in (unset optional ones empty)."""
    return VARIABLE.sub(lambda m: SET_BY_OPERATOR.get(m.group(1), ""), str(value))


def _services() -> dict[str, Any]:
    services: dict[str, Any] = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))["services"]
    return services


def _environment(service: str) -> dict[str, str]:
    return {k: _filled(v) for k, v in (_services()[service].get("environment") or {}).items()}


def _dockerfile(name: str) -> str:
    return (PROJECT_ROOT / "deploy" / f"Dockerfile.{name}").read_text(encoding="utf-8")


def test_the_operator_must_give_the_secrets_and_none_is_in_the_file() -> None:
    text = COMPOSE.read_text(encoding="utf-8")
    for name in SET_BY_OPERATOR:
        assert re.search(rf"\$\{{{name}:\?", text), f"{name} must be required (${{{name}:?...}})"
    assert "k" * 48 not in text and SET_BY_OPERATOR["POSTGRES_PASSWORD"] not in text and "m" * 43 not in text


def test_the_desks_settings_are_known_and_pass_the_multi_process_checks() -> None:
    known = {name.upper() for name in DeskSettings.model_fields}
    desks = [name for name in _services() if name.startswith("desk-")]
    for desk in desks:
        env = _environment(desk)
        assert set(env) <= known, f"{desk}: settings the desk does not know: {set(env) - known}"
        settings = DeskSettings.model_validate({k.lower(): v for k, v in env.items()})
        assert settings.multi_process_problems() == []
        assert settings.desk_processes == len(desks)
        rasas = replica_urls(settings.rasa_url)
        assert {url.split("//")[1].split(":")[0] for url in rasas} == {n for n in _services() if n.startswith("rasa-")}


def test_rasa_gets_the_tracker_database_the_init_script_makes_and_the_balanced_action_servers() -> None:
    for rasa in (name for name in _services() if name.startswith("rasa-")):
        config = endpoints({}, _environment(rasa))
        init = (PROJECT_ROOT / "deploy" / "postgres-init.sql").read_text(encoding="utf-8")
        assert f"CREATE DATABASE {config['tracker_store']['db']};" in init
        assert config["tracker_store"]["url"] == "postgres"
        assert config["lock_store"]["url"] == "redis"
        balancer = _environment("balancer")
        port = balancer["BAKEN_BIND_ACTIONS"].rsplit(":", 1)[1]
        assert config["action_endpoint"]["url"] == f"http://balancer:{port}/webhook"


def test_rasa_pulls_the_live_model_from_the_desks_that_keep_it_in_the_database() -> None:
    """Models across machines: the desks store them in PostgreSQL and serve them through the
    balancer; every Rasa server pulls the live one with the same token the desks expect."""
    desk = DeskSettings.model_validate({k.lower(): v for k, v in _environment("desk-1").items()})
    assert desk.models_store == "database" and desk.model_server_token is not None
    balancer = _environment("balancer")
    internal_port = balancer["BAKEN_BIND_INTERNAL"].rsplit(":", 1)[1]
    assert internal_port != balancer["BAKEN_BIND_DESKS"].rsplit(":", 1)[1], "models not on the public port"
    published = [str(p).split(":")[-1] for p in _services()["balancer"].get("ports", [])]
    assert internal_port not in published, "the balancer's internal port is published"
    assert desk.model_server_base() == f"http://balancer:{internal_port}"
    for rasa in (name for name in _services() if name.startswith("rasa-")):
        models = endpoints({}, _environment(rasa))["models"]
        assert models["url"] == f"{desk.model_server_base()}/internal/models/live.tar.gz"
        assert models["headers"] == {"Authorization": f"Bearer {desk.model_server_token.get_secret_value()}"}
        assert models["wait_time_between_pulls"] > 0


def test_the_images_run_what_make_run_scaled_runs() -> None:
    run_scaled = (PROJECT_ROOT / "scripts" / "run-scaled").read_text(encoding="utf-8")
    cmd = json.loads(_dockerfile("desk").split("\nCMD ", 1)[1].splitlines()[0])
    assert cmd[:3] == ["uvicorn", "--factory", "desk.app:create_app"]
    assert "uvicorn --factory desk.app:create_app" in run_scaled
    assert "requirements/desk.lock" in _dockerfile("desk") and "requirements/rasa.lock" in _dockerfile("rasa")
    rasa_command = " ".join(_services()["rasa-1"]["command"])
    assert "rasa run --enable-api" in rasa_command and "rasa run --enable-api" in run_scaled
    assert _services()["actions-1"]["command"][:3] == ["rasa", "run", "actions"]
    ports = {_environment("balancer")[k].rsplit(":", 1)[1] for k in ("BAKEN_DESK_1", "BAKEN_DESK_2")}
    assert ports == {cmd[cmd.index("--port") + 1]}


def test_the_images_leave_local_state_and_secrets_out() -> None:
    ignored = (PROJECT_ROOT / ".dockerignore").read_text(encoding="utf-8").split()
    for path in (".env", ".venv-*", "var", ".git"):
        assert path in ignored
    assert "models" not in ignored, "the Rasa image serves models/baken.tar.gz"


def test_haproxy_accepts_the_balancer_configuration_with_composes_addresses() -> None:
    haproxy = shutil.which("haproxy")
    if haproxy is None:
        pytest.fail("HAProxy is needed: `make haproxy` installs it")
    env = {"PATH": "/usr/bin:/bin", **_environment("balancer")}
    checked = subprocess.run(
        [haproxy, "-c", "-f", str(PROJECT_ROOT / "deploy" / "haproxy.cfg")], env=env, capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "Configuration file is valid" in checked.stdout + checked.stderr
