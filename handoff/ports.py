"""What the worker side needs from the citizen side, without importing it.

The inbox hands a conversation back to the assistant; the learning loop loads a new model
into it; the health check asks whether it answers. `bot.rasa_client.RasaClient` is the
implementation (and its `RasaUnavailable` is an `AssistantUnavailable`); `desk.app` passes
it in. A worker's reply is stored first; `wake_outbox` only tells the channel's outbox (the
Telegram one) that something is waiting, so nothing here waits on a channel.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

from handoff.store.models import Channel, Worker


class AssistantUnavailable(RuntimeError):
    """The assistant did not answer (down, timing out, or answering with an error)."""


class Assistant(Protocol):
    async def resume(self, sender_id: str) -> None:
        """Un-pause a conversation the assistant had handed to a worker."""

    async def replace_model(self, model_file: str, timeout_s: float = 300.0) -> None:
        """Load another model; conversations go on. Raises AssistantUnavailable."""

    async def readiness(self) -> str:
        """ "ready", "loading" or "down"."""


WakeOutbox = Callable[[Channel], None]
"""Tell a channel's outbox that a stored message waits for delivery (a no-op for the widget,
which reads its history)."""


def no_outbox(_channel: Channel) -> None:
    """For a desk without Telegram (and tests): the widget needs no waking."""


class EraseCitizen(Protocol):
    """Erase everything of one channel identity (bot.routing.Dispatcher.erase): the desk's
    admins erase through it so it waits for messages being answered, as the citizen's does."""

    def __call__(
        self, channel: Channel, external_id: str, *, worker: Worker | None = None, reason: str | None = None
    ) -> Awaitable[object]: ...
