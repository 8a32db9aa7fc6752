"""Reading what a running desk stored, waiting until it is there (tests and benchmarks)."""

from __future__ import annotations

import time

from sqlalchemy import select

from handoff.store.db import create_engine, session_factory
from handoff.store.models import Author, Message


def parse_of(url: str, text: str, count: int, seconds: float = 90) -> dict[str, object]:
    """The stored parse of the `count`-th citizen message with this text, once the assistant answered."""
    deadline = time.monotonic() + seconds
    engine = create_engine(url)
    try:
        while time.monotonic() < deadline:
            with session_factory(engine)() as session:
                messages = session.scalars(
                    select(Message).where(Message.author == Author.citizen, Message.text == text).order_by(Message.id)
                ).all()
            parse = messages[count - 1].nlu if len(messages) >= count else None
            if parse is not None:
                return dict(parse)
            time.sleep(0.5)
    finally:
        engine.dispose()
    raise AssertionError(f"no parse for message {count} with this text")


def understood(url: str, text: str, count: int) -> str:
    """The intent of the `count`-th citizen message with this text."""
    return str(parse_of(url, text, count)["intent"])
