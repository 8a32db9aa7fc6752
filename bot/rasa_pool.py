"""Several Rasa servers, each conversation on one of them at a time (issue 13).

Rasa Open Source's lock store does not stop two Rasa servers from handling the same
conversation at once (rasa PR #11256, issue #9213), so replicas behind a plain load balancer
would race. The desk is Rasa's only client, so the desk chooses: every conversation has its
own order of the replicas, by rendezvous hashing of its sender id over the replica URLs
(sha256; the same order in every desk process, no coordination, and when a replica goes
away only *its* conversations move). A conversation goes to the first replica in its order
that is not marked down.

A replica is marked down when it refuses the connection, answers 503 (no model loaded) or
5xx, or does not answer in time *and* then fails a health probe. Its conversations move to
the next replica in their order: their trackers are in the shared SQL tracker store, so the
slots survive. After `retry_after_s` the replica is tried again, and once it answers its
conversations come back. A message that may have reached a replica (a read timeout) is not
sent elsewhere by this call: the caller repeats it with the same message id, and the `baken`
channel handles an id once (it looks in the shared tracker).

With one URL the desk uses the plain `RasaClient` (the embedded default, `connect_rasa`).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from bot.rasa_client import (
    RETRIES,
    BotReply,
    RasaApi,
    RasaClient,
    RasaEmpty,
    RasaNotReady,
    RasaPaused,
    RasaUnavailable,
)

log = logging.getLogger(__name__)

PROBE_TIMEOUT_S = 2.0


def replica_urls(setting: str) -> list[str]:
    """The replica URLs from the RASA_URL setting: one URL, or several separated by commas."""
    urls = [u.strip().rstrip("/") for u in setting.split(",") if u.strip()]
    if not urls:
        raise ValueError("RASA_URL is empty: give one Rasa URL, or several separated by commas")
    if len(set(urls)) != len(urls):
        raise ValueError("RASA_URL names the same Rasa server twice")
    return urls


def rendezvous_order(sender_id: str, urls: Sequence[str]) -> list[str]:
    """The replicas in this conversation's order of preference (highest hash first)."""

    def weight(url: str) -> bytes:
        return hashlib.sha256(f"{url}\0{sender_id}".encode()).digest()

    return sorted(urls, key=weight, reverse=True)


def connect_rasa(
    rasa_url: str, timeout_s: float = 10.0, token: str | None = None, model_token: str | None = None
) -> RasaApi:
    """The desk's Rasa from the RASA_URL setting: the plain client for one URL, a pool for
    several. `model_token` goes with a model download URL (MODEL_SERVER_TOKEN)."""
    urls = replica_urls(rasa_url)
    if len(urls) == 1:
        return RasaClient(urls[0], timeout_s=timeout_s, token=token, model_token=model_token)
    return RasaPool(urls, timeout_s=timeout_s, token=token, model_token=model_token)


@dataclass
class Replica:
    url: str
    client: RasaClient
    down_until: float = 0.0
    """Monotonic time before which this replica is skipped (0: healthy)."""


class RasaPool:
    """The desk's Rasa: one or more replicas, the same methods as `RasaClient`."""

    def __init__(
        self,
        urls: Sequence[str],
        timeout_s: float = 10.0,
        token: str | None = None,
        *,
        retry_after_s: float = 5.0,
        transports: Mapping[str, httpx.AsyncBaseTransport] | None = None,
        clock: Callable[[], float] = time.monotonic,
        model_token: str | None = None,
    ) -> None:
        if not urls:
            raise ValueError("a Rasa pool needs at least one URL")
        self.replicas = {
            url: Replica(
                url,
                RasaClient(
                    url,
                    timeout_s=timeout_s,
                    token=token,
                    transport=(transports or {}).get(url),
                    model_token=model_token,
                ),
            )
            for url in urls
        }
        self.retry_after_s = retry_after_s
        self.clock = clock
        self._probes: set[asyncio.Task[str]] = set()

    async def close(self) -> None:
        for task in list(self._probes):
            task.cancel()
        for replica in self.replicas.values():
            await replica.client.close()

    # ------------------------------------------------------------------ choosing

    def order(self, sender_id: str) -> list[Replica]:
        return [self.replicas[url] for url in rendezvous_order(sender_id, list(self.replicas))]

    def replica_for(self, sender_id: str) -> Replica:
        """Where this conversation goes now."""
        return self.candidates(sender_id)[0]

    def candidates(self, sender_id: str) -> list[Replica]:
        """Healthy replicas in the conversation's order, then the ones marked down (a last resort:
        with every replica down, the preferred one is still asked)."""
        now = self.clock()
        ordered = self.order(sender_id)
        return [r for r in ordered if r.down_until <= now] + [r for r in ordered if r.down_until > now]

    def mark_down(self, replica: Replica, why: str) -> None:
        if replica.down_until <= self.clock():
            log.warning("Rasa replica %s is down (%s); its conversations go to the next replica", replica.url, why)
        replica.down_until = self.clock() + self.retry_after_s

    def mark_up(self, replica: Replica) -> None:
        if replica.down_until:
            log.info("Rasa replica %s answers again; its conversations come back", replica.url)
        replica.down_until = 0.0

    async def probe(self, replica: Replica) -> str:
        """Ask one replica whether it answers; mark it down unless it is ready."""
        try:
            state = await asyncio.wait_for(replica.client.readiness(), timeout=PROBE_TIMEOUT_S)
        except asyncio.TimeoutError:
            state = "down"
        if state == "ready":
            self.mark_up(replica)
        else:
            self.mark_down(replica, f"health probe: {state}")
        return state

    def _probe_later(self, replica: Replica) -> None:
        task = asyncio.get_running_loop().create_task(self.probe(replica))
        self._probes.add(task)
        task.add_done_callback(self._probes.discard)

    # ------------------------------------------------------------------ the API

    async def send(
        self, sender_id: str, text: str, metadata: dict[str, Any] | None = None, *, message_id: str | None = None
    ) -> BotReply:
        """Like `RasaClient.send`, on the conversation's replica; a replica that is not
        listening or has no model is skipped for the next one within this call."""
        not_ready: RasaNotReady | None = None
        for replica in self.candidates(sender_id):
            try:
                reply = await replica.client.send(sender_id, text, metadata, message_id=message_id)
            except RasaNotReady as exc:  # never reached Rasa, or Rasa has no model: safe elsewhere
                self.mark_down(replica, str(exc))
                not_ready = exc
                continue
            except (RasaPaused, RasaEmpty):
                self.mark_up(replica)
                raise
            except RasaUnavailable:
                # it may have handled the message: not sent elsewhere now; the caller repeats it
                await self.probe(replica)
                raise
            except asyncio.CancelledError:
                # the caller gave up waiting (a frozen or overloaded replica): look at it
                self._probe_later(replica)
                raise
            self.mark_up(replica)
            return reply
        assert not_ready is not None
        raise not_ready

    async def _idempotent(self, sender_id: str, call: Callable[[RasaClient, int], Awaitable[Any]]) -> Any:
        """`call(client, retries)` on the conversation's replica, then the next ones. While another
        replica is left to ask, a replica gets no retries of its own: a dead one costs one
        failed request, not the client's retry delays, before the next is asked."""
        last: RasaUnavailable | None = None
        candidates = self.candidates(sender_id)
        for position, replica in enumerate(candidates):
            retries = RETRIES if position == len(candidates) - 1 else 0
            try:
                result = await call(replica.client, retries)
            except RasaUnavailable as exc:
                self.mark_down(replica, str(exc))
                last = exc
                continue
            self.mark_up(replica)
            return result
        assert last is not None
        raise last

    async def tracker(self, sender_id: str) -> dict[str, Any]:
        result = await self._idempotent(sender_id, lambda client, retries: client.tracker(sender_id, retries=retries))
        return result if isinstance(result, dict) else {}

    async def resume(self, sender_id: str) -> None:
        await self._idempotent(sender_id, lambda client, retries: client.resume(sender_id, retries=retries))

    async def replace_model(self, model_file: str, timeout_s: float = 300.0) -> None:
        """Every replica loads the model; a replica that is down loads the live model when it
        starts (the live file, or the desk's live.tar.gz with a `models:` section). Raises
        RasaUnavailable when no replica could load it."""
        results = await asyncio.gather(
            *(r.client.replace_model(model_file, timeout_s) for r in self.replicas.values()), return_exceptions=True
        )
        failures = [(r, e) for r, e in zip(self.replicas.values(), results, strict=True) if isinstance(e, Exception)]
        for replica, exc in failures:
            log.warning("Rasa replica %s did not load the new model: %s", replica.url, exc)
        if len(failures) == len(self.replicas):
            raise RasaUnavailable(f"no Rasa replica loaded the model: {failures[0][1]}")

    async def readiness(self) -> str:
        """ "ready" when any replica answers, "loading" when one is loading, else "down"."""
        states = await asyncio.gather(*(r.client.readiness() for r in self.replicas.values()))
        for replica, state in zip(self.replicas.values(), states, strict=True):
            if state == "ready":
                self.mark_up(replica)
        if "ready" in states:
            return "ready"
        return "loading" if "loading" in states else "down"
