"""One asyncio lock per conversation, dropped when nobody holds or waits for it."""

from __future__ import annotations

import asyncio


class ConversationLocks:
    """One asyncio lock per conversation: a desk process answers one conversation's messages in order."""

    def __init__(self) -> None:
        self._locks: dict[int, asyncio.Lock] = {}
        self._users: dict[int, int] = {}

    def hold(self, conversation_id: int) -> _Held:
        return _Held(self, conversation_id)


class _Held:
    def __init__(self, locks: ConversationLocks, conversation_id: int) -> None:
        self.locks, self.key = locks, conversation_id

    async def __aenter__(self) -> None:
        """An uncontended lock is taken without yielding."""
        locks = self.locks
        lock = locks._locks.setdefault(self.key, asyncio.Lock())
        locks._users[self.key] = locks._users.get(self.key, 0) + 1
        await lock.acquire()

    async def __aexit__(self, *_exc: object) -> None:
        locks = self.locks
        locks._locks[self.key].release()
        locks._users[self.key] -= 1
        if locks._users[self.key] == 0:
            del locks._users[self.key]
            del locks._locks[self.key]
