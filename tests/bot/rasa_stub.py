"""The parts of the Rasa client (bot/rasa_client.py RasaApi) that routing tests do not look at:
a fake assistant subclasses this and writes only its own `send`."""

from __future__ import annotations

from typing import Any


class RasaStub:
    async def tracker(self, sender_id: str) -> dict[str, Any]:
        return {"sender_id": sender_id, "events": []}

    async def resume(self, sender_id: str) -> None:
        return None

    async def replace_model(self, model_file: str, timeout_s: float = 300.0) -> None:
        return None

    async def readiness(self) -> str:
        return "ready"

    async def close(self) -> None:
        return None
