"""Several desk processes (issue 13): the desk refuses to start when the settings would let
processes disagree (a per-process secret, files on one process's disk, Telegram polling)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from desk.lifespan import lifespan
from handoff.config import DeskSettings

PG = "postgresql+psycopg://postgres@127.0.0.1:5432/baken"


def test_one_process_needs_nothing_extra() -> None:
    assert DeskSettings(database_url="sqlite:///x.db").multi_process_problems() == []


def test_several_processes_need_postgresql_a_secret_shared_files_and_a_webhook() -> None:
    problems = DeskSettings(
        desk_processes=2, database_url="sqlite:///x.db", telegram_token=SecretStr("123:abc")
    ).multi_process_problems()
    assert [p.split()[0] for p in problems] == ["DATABASE_URL", "SECRET_KEY", "ATTACHMENTS_STORE", "Telegram"]
    ready = DeskSettings(
        desk_processes=2,
        database_url=PG,
        secret_key=SecretStr("s" * 32),
        attachments_store="database",
        telegram_token=SecretStr("123:abc"),
        telegram_webhook_url="https://baken.example",
        telegram_webhook_secret=SecretStr("w" * 32),
    )
    assert ready.multi_process_problems() == []


def test_an_empty_setting_is_an_unset_one(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)  # no .env
    for name in ("TELEGRAM_TOKEN", "TELEGRAM_WEBHOOK_URL", "TELEGRAM_WEBHOOK_SECRET", "SECRET_KEY"):
        monkeypatch.setenv(name, "")
    settings = DeskSettings()
    assert settings.telegram_token is None and settings.secret_key is None
    assert settings.telegram_webhook_url is None and settings.telegram_webhook_secret is None


def test_the_desk_does_not_start_with_them_missing() -> None:
    settings = DeskSettings(desk_processes=2, database_url=PG, secret_key=SecretStr("s" * 32))

    async def start() -> None:
        async with lifespan(settings, None)(FastAPI()):
            pass

    with pytest.raises(RuntimeError, match="ATTACHMENTS_STORE"):
        asyncio.run(start())
