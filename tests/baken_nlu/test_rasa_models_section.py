"""Rasa's own reader accepts the `models:` section the desk writes into endpoints.yml.

Here, not in tests/baken_core: that folder also runs in the desk's environment, which has no
Rasa, and a test skipped there would count as a failure.
"""

from __future__ import annotations

from pathlib import Path

import yaml
from rasa.utils.endpoints import read_endpoint_config

from baken_core import rasa_endpoints
from baken_core.rasa_endpoints import endpoints

MODEL_ENV = {"MODEL_SERVER_URL": "http://balancer:8000/", "MODEL_SERVER_TOKEN": "s" * 40}


def test_rasa_reads_the_models_section_as_written(tmp_path: Path) -> None:
    """Rasa's own reader (rasa/core/utils.py AvailableEndpoints): the URL, the header in its
    HTTP session (not in the query string) and the pull interval."""
    out = tmp_path / "endpoints.yml"
    out.write_text(yaml.safe_dump(endpoints({}, MODEL_ENV)), encoding="utf-8")
    model = read_endpoint_config(str(out), "models")
    assert model.url == "http://balancer:8000/internal/models/live.tar.gz"
    assert model.headers == {"Authorization": f"Bearer {'s' * 40}"}
    assert model.combine_parameters() == {}  # nothing secret in the URL
    assert model.kwargs["wait_time_between_pulls"] == 60
    assert rasa_endpoints.LIVE_MODEL_PATH in model.url
