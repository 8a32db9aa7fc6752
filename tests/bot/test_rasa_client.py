"""The Rasa client's retry rule: a citizen's message is sent again only when it cannot have
reached Rasa; a read timeout or a server error is not retried (Rasa may have handled it)."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from bot.rasa_client import RETRIES, RasaClient, RasaUnavailable


def client_failing_with(error: Exception | None, status: int = 200) -> tuple[RasaClient, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if error is not None:
            raise error
        return httpx.Response(status, json={"messages": [], "parse": None})

    return RasaClient("http://rasa.test", transport=httpx.MockTransport(handle)), seen


@pytest.mark.parametrize(
    ("error", "status", "attempts"),
    [
        (httpx.ConnectError("refused"), 200, RETRIES + 1),  # never reached Rasa: safe to resend
        (httpx.ReadTimeout("slow"), 200, 1),  # Rasa may be handling it: never twice
        (None, 503, 1),
    ],
)
def test_a_message_is_resent_only_when_it_never_arrived(error: Exception | None, status: int, attempts: int) -> None:
    client, seen = client_failing_with(error, status)
    with pytest.raises(RasaUnavailable):
        asyncio.run(client.send("sender-1", "hallo"))
    assert len(seen) == attempts


def test_reading_the_tracker_is_retried_after_a_timeout() -> None:
    client, seen = client_failing_with(httpx.ReadTimeout("slow"))
    with pytest.raises(RasaUnavailable):
        asyncio.run(client.tracker("sender-1"))
    assert len(seen) == RETRIES + 1


def test_a_good_answer_carries_the_parse() -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            200,
            json={
                "messages": [{"recipient_id": "s", "text": "Hoi!"}, {"custom": {"handoff": {"reason": "crisis"}}}],
                "parse": {"intent": "greet", "confidence": 0.99},
            },
        )

    reply = asyncio.run(RasaClient("http://rasa.test", transport=httpx.MockTransport(handle)).send("s", "hoi"))
    assert reply.texts == [{"text": "Hoi!"}] and reply.handoff == {"reason": "crisis"}
    assert reply.parse == {"intent": "greet", "confidence": 0.99}
