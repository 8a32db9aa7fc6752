"""The Rasa client: one attempt per call, every failure classified, the desk's message id
sent along (the channel handles an id once, so the router may resend after any failure)."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from bot.rasa_client import RETRIES, RasaClient, RasaEmpty, RasaNotReady, RasaPaused, RasaUnavailable


def client_answering(
    error: Exception | None = None, status: int = 200, body: object = None
) -> tuple[RasaClient, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if error is not None:
            raise error
        return httpx.Response(status, json=body if body is not None else {"messages": [], "parse": None})

    return RasaClient("http://rasa.test", transport=httpx.MockTransport(handle)), seen


@pytest.mark.parametrize(
    ("error", "status", "body", "kind"),
    [
        (httpx.ConnectError("refused"), 200, None, RasaNotReady),  # starting: not listening yet
        (None, 503, {"ready": False}, RasaNotReady),  # listening, no model loaded yet
        (httpx.ReadTimeout("slow"), 200, None, RasaUnavailable),
        (None, 500, {"error": "failed"}, RasaUnavailable),
        (None, 409, {"paused": True}, RasaPaused),
        (None, 200, {"messages": [], "parse": None}, RasaEmpty),  # nothing at all is a failure
        (None, 200, [1, 2], RasaEmpty),
    ],
)
def test_each_failure_is_classified_after_one_attempt(
    error: Exception | None, status: int, body: object, kind: type[Exception]
) -> None:
    client, seen = client_answering(error, status, body)
    with pytest.raises(kind):
        asyncio.run(client.send("sender-1", "hallo", message_id="desk-7"))
    assert len(seen) == 1
    assert json.loads(seen[0].content)["message_id"] == "desk-7"


def test_reading_the_tracker_is_retried_after_a_timeout() -> None:
    client, seen = client_answering(httpx.ReadTimeout("slow"))
    with pytest.raises(RasaUnavailable):
        asyncio.run(client.tracker("sender-1"))
    assert len(seen) == RETRIES + 1


def test_a_good_answer_carries_the_parse_and_whether_it_was_replayed() -> None:
    client, _seen = client_answering(
        body={
            "messages": [{"recipient_id": "s", "text": "Hoi!"}, {"custom": {"handoff": {"reason": "crisis"}}}],
            "parse": {"intent": "greet", "confidence": 0.99},
            "replayed": True,
        }
    )
    reply = asyncio.run(client.send("s", "hoi", message_id="desk-1"))
    assert reply.texts == [{"text": "Hoi!"}] and reply.handoff == {"reason": "crisis"}
    assert reply.parse == {"intent": "greet", "confidence": 0.99} and reply.replayed


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [(200, {"status": "ok", "ready": True}, "ready"), (200, {"status": "ok", "ready": False}, "loading")],
)
def test_readiness_tells_loaded_from_listening(status: int, body: object, expected: str) -> None:
    client, _seen = client_answering(status=status, body=body)
    assert asyncio.run(client.readiness()) == expected
    down, _ = client_answering(httpx.ConnectError("refused"))
    assert asyncio.run(down.readiness()) == "down"


def test_a_model_is_a_path_on_rasas_disk_or_a_download_with_the_token_in_a_header() -> None:
    """Rasa 3.6's PUT /model takes `model_file` (a path) or `model_server` (an EndpointConfig:
    url, headers, wait_time_between_pulls; rasa/server.py `load_model`)."""
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(204)

    async def load() -> None:
        client = RasaClient("http://rasa.test", transport=httpx.MockTransport(handle), model_token="k" * 40)
        await client.replace_model("models/registry/a.tar.gz")
        await client.replace_model("http://balancer:8000/internal/models/a.tar.gz")
        await client.close()

    asyncio.run(load())
    assert [json.loads(r.content) for r in seen] == [
        {"model_file": "models/registry/a.tar.gz"},
        {
            "model_server": {
                "url": "http://balancer:8000/internal/models/a.tar.gz",
                "wait_time_between_pulls": None,
                "headers": {"Authorization": f"Bearer {'k' * 40}"},
            }
        },
    ]
    assert all("k" * 40 not in str(r.url) for r in seen)
