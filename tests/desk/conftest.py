"""The whole desk's tests (schema fuzzing, the pages in Chromium, retraining, crashes): the
databases (tests/databases.py) and the assistant, real or scripted (tests/assistants.py)."""

from __future__ import annotations

from tests.assistants import rasa_folder, rasa_url, stub_rasa
from tests.databases import database_url, postgres_url

__all__ = ["database_url", "postgres_url", "rasa_folder", "rasa_url", "stub_rasa"]
