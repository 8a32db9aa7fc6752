"""Several Rasa replicas: each conversation sticks to one, moves to the next while its replica
is down (its context kept, the tracker store being shared), and comes back afterwards; a
message that may have reached a replica is never sent to a second one in the same call."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from dataclasses import dataclass, field

import httpx
import pytest

from bot.rasa_client import RETRIES, RasaClient, RasaNotReady, RasaUnavailable
from bot.rasa_pool import RasaPool, connect_rasa, rendezvous_order, replica_urls

URLS = ["http://rasa-1.test", "http://rasa-2.test", "http://rasa-3.test"]


@dataclass
class FakeReplicas:
    """Replicas with one shared tracker store (sender -> the texts it heard, who handled them)."""

    state: dict[str, str] = field(default_factory=lambda: dict.fromkeys(URLS, "ok"))
    trackers: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    requests: Counter[str] = field(default_factory=Counter)

    def transport(self, url: str) -> httpx.MockTransport:
        def handle(request: httpx.Request) -> httpx.Response:
            self.requests[url] += 1
            state = self.state[url]
            if state == "refuse":
                raise httpx.ConnectError("refused")
            if state == "frozen":
                raise httpx.ReadTimeout("no answer")
            if state == "loading":
                return httpx.Response(503, json={"ready": False})
            if request.method == "GET" and request.url.path == "/webhooks/baken/":
                return httpx.Response(200, json={"ready": True})
            if request.url.path == "/webhooks/baken/webhook":
                body = json.loads(request.content)
                heard = self.trackers.setdefault(body["sender"], [])
                heard.append((body["message"], url))
                return httpx.Response(200, json={"messages": [{"text": f"{len(heard)} berichten"}], "parse": None})
            if request.url.path.endswith("/tracker"):
                sender = request.url.path.split("/")[2]
                return httpx.Response(200, json={"sender_id": sender, "heard": len(self.trackers.get(sender, []))})
            if request.method == "PUT" and request.url.path == "/model":
                return httpx.Response(204)
            return httpx.Response(404)

        return httpx.MockTransport(handle)

    def pool(self, clock: list[float] | None = None) -> RasaPool:
        now = clock if clock is not None else [0.0]
        return RasaPool(
            URLS,
            retry_after_s=5.0,
            transports={url: self.transport(url) for url in URLS},
            clock=lambda: now[0],
        )


def test_the_order_is_stable_and_spreads_conversations() -> None:
    senders = [f"widget-{i}" for i in range(300)]
    first = Counter(rendezvous_order(s, URLS)[0] for s in senders)
    assert set(first) == set(URLS)
    assert min(first.values()) > 60  # about a third each
    # the same in every desk process, whatever order the URLs are listed in
    assert all(rendezvous_order(s, URLS) == rendezvous_order(s, list(reversed(URLS))) for s in senders)


def test_removing_a_replica_moves_only_its_own_conversations() -> None:
    senders = [f"telegram-{i}" for i in range(300)]
    before = {s: rendezvous_order(s, URLS)[0] for s in senders}
    after = {s: rendezvous_order(s, URLS[:2])[0] for s in senders}
    moved = [s for s in senders if before[s] != after[s]]
    assert moved and all(before[s] == URLS[2] for s in moved)


def test_a_conversation_sticks_to_one_replica() -> None:
    replicas = FakeReplicas()
    pool = replicas.pool()

    async def talk() -> None:
        for sender in ("a", "b", "c", "d", "e", "f"):
            for n in range(4):
                await pool.send(sender, f"bericht {n}", message_id=f"{sender}-{n}")
        await pool.close()

    asyncio.run(talk())
    for sender, heard in replicas.trackers.items():
        assert {url for _, url in heard} == {rendezvous_order(sender, URLS)[0]}
        assert [text for text, _ in heard] == [f"bericht {n}" for n in range(4)]


@pytest.mark.parametrize("failure", ["refuse", "loading"])
def test_a_down_replica_moves_its_conversations_and_gets_them_back(failure: str) -> None:
    replicas = FakeReplicas()
    clock = [0.0]
    pool = replicas.pool(clock)
    sender = "widget-42"
    home, second = rendezvous_order(sender, URLS)[:2]

    async def talk() -> list[str]:
        answers = [(await pool.send(sender, "eerste", message_id="m1")).texts[0]["text"]]
        replicas.state[home] = failure
        answers.append((await pool.send(sender, "tweede", message_id="m2")).texts[0]["text"])
        clock[0] += 1.0  # still marked down: not asked again
        asked = replicas.requests[home]
        answers.append((await pool.send(sender, "derde", message_id="m3")).texts[0]["text"])
        assert replicas.requests[home] == asked
        replicas.state[home] = "ok"
        clock[0] += 10.0  # past retry_after_s: tried again, and the conversation comes home
        answers.append((await pool.send(sender, "vierde", message_id="m4")).texts[0]["text"])
        await pool.close()
        return answers

    answers = asyncio.run(talk())
    # one tracker throughout: the count goes on across replicas, nothing lost or doubled
    assert answers == ["1 berichten", "2 berichten", "3 berichten", "4 berichten"]
    assert [url for _, url in replicas.trackers[sender]] == [home, second, second, home]


def test_a_timeout_is_not_sent_to_a_second_replica_but_the_repeat_is() -> None:
    replicas = FakeReplicas()
    pool = replicas.pool()
    sender = "telegram-7"
    home, second = rendezvous_order(sender, URLS)[:2]
    replicas.state[home] = "frozen"  # SIGSTOP: no answer, and no answer to the health probe

    async def talk() -> str:
        with pytest.raises(RasaUnavailable):
            await pool.send(sender, "hallo", message_id="m1")
        assert replicas.trackers.get(sender) is None  # not handed to another replica in that call
        reply = await pool.send(sender, "hallo", message_id="m1")  # the caller's repeat
        await pool.close()
        return str(reply.texts[0]["text"])

    assert asyncio.run(talk()) == "1 berichten"
    assert replicas.trackers[sender] == [("hallo", second)]


def test_a_slow_but_healthy_replica_keeps_its_conversations() -> None:
    replicas = FakeReplicas()
    pool = replicas.pool()
    sender = "widget-9"
    home = rendezvous_order(sender, URLS)[0]

    async def talk() -> None:
        await pool.probe(pool.replicas[home])  # answers its health check
        assert pool.replica_for(sender).url == home
        await pool.close()

    asyncio.run(talk())


def test_with_every_replica_down_the_error_is_the_clients() -> None:
    replicas = FakeReplicas()
    replicas.state = dict.fromkeys(URLS, "refuse")
    pool = replicas.pool()

    async def talk() -> None:
        with pytest.raises(RasaNotReady):
            await pool.send("x", "hallo", message_id="m1")
        assert await pool.readiness() == "down"
        await pool.close()

    asyncio.run(talk())
    assert all(replicas.requests[url] >= 1 for url in URLS)


def test_resume_and_tracker_go_to_the_conversations_replica_or_the_next() -> None:
    replicas = FakeReplicas()
    pool = replicas.pool()
    sender = "widget-5"
    home = rendezvous_order(sender, URLS)[0]

    async def talk() -> dict[str, object]:
        await pool.send(sender, "hallo", message_id="m1")
        replicas.state[home] = "refuse"
        tracker = await pool.tracker(sender)
        await pool.close()
        return tracker

    assert asyncio.run(talk()) == {"sender_id": sender, "heard": 1}


def test_a_dead_replica_costs_one_request_before_the_next_is_asked() -> None:
    """No retry delays on a replica while another is left to ask; the last one keeps its retries."""
    replicas = FakeReplicas()
    pool = replicas.pool()
    sender = "widget-6"
    home, second, last = rendezvous_order(sender, URLS)

    async def talk() -> None:
        replicas.state[home] = "refuse"
        assert await pool.tracker(sender) == {"sender_id": sender, "heard": 0}
        assert replicas.requests[home] == 1 and replicas.requests[second] == 1
        replicas.state = dict.fromkeys(URLS, "refuse")
        with pytest.raises(RasaUnavailable):
            await pool.resume(sender)
        await pool.close()

    asyncio.run(talk())
    # resume: home is marked down, so it is asked last: second and last once each, home with its
    # retries (first try + RETRIES), after its one request for the tracker
    assert replicas.requests[second] == 2 and replicas.requests[last] == 1
    assert replicas.requests[home] == 1 + 1 + RETRIES


def test_a_new_model_goes_to_every_replica_and_one_down_is_not_fatal() -> None:
    replicas = FakeReplicas()
    replicas.state[URLS[1]] = "refuse"
    pool = replicas.pool()

    async def promote() -> str:
        await pool.replace_model("models/new.tar.gz", timeout_s=5)
        ready = await pool.readiness()
        replicas.state = dict.fromkeys(URLS, "refuse")
        with pytest.raises(RasaUnavailable):
            await pool.replace_model("models/new.tar.gz", timeout_s=5)
        await pool.close()
        return ready

    assert asyncio.run(promote()) == "ready"


def test_the_setting_names_one_or_several_replicas() -> None:
    assert replica_urls("http://localhost:5005") == ["http://localhost:5005"]
    assert replica_urls(" http://a:5005/ , http://b:5005 ") == ["http://a:5005", "http://b:5005"]
    with pytest.raises(ValueError, match="twice"):
        replica_urls("http://a:5005,http://a:5005/")
    with pytest.raises(ValueError, match="empty"):
        replica_urls(" , ")
    assert isinstance(connect_rasa("http://localhost:5005"), RasaClient)  # the embedded default
    assert isinstance(connect_rasa("http://a:5005,http://b:5005"), RasaPool)
    pool = connect_rasa("http://a:5005,http://b:5005", model_token="k" * 40)
    assert isinstance(pool, RasaPool)
    assert all(r.client._model_token == "k" * 40 for r in pool.replicas.values())  # every replica downloads
