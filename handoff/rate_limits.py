"""Limits that keep one abuser from hurting everyone (issue 14), with the maintained `limits`
library (moving windows; in memory for one desk process, Redis when several share them).

- Citizen messages: per citizen (widget visitor, Telegram chat) and per IP address; new
  citizens (visitor ids) per IP. Every message costs a Rasa round trip, so without these
  one script could push everyone into the "Rasa down" queue or flood the crisis queue.
  A message with crisis words is never refused by a limit: the caller checks first.
- Logins: failed attempts per login name and per IP; at the limit even the right password
  waits (a slow guesser gets nowhere, and argon2 is not run for them at all).
- Live streams: how many a visitor, an IP or a worker has open at once (in this process).

When the limits' storage (Redis) cannot be reached, the limits let everything through and
log a warning: a limit is a protection, it must never become the outage.

Per-IP limits skip loopback addresses: on this machine itself (development, the tests, a
reverse proxy that does not pass the client's address) every client would share one
address and one limit. Behind a proxy, let uvicorn take the client's address from the
proxy (`--proxy-headers --forwarded-allow-ips`), as deploy/haproxy.cfg sends it.
"""

from __future__ import annotations

import ipaddress
import logging
import math
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from limits import RateLimitItem, parse
from limits.storage import Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

from baken_core.crisis import DANGER, SUICIDE
from handoff.config import DeskSettings

log = logging.getLogger(__name__)

TOO_FAST = (
    "Je stuurt veel berichten kort na elkaar. Wacht even: wat je al stuurde is bewaard. "
    "Is het dringend?\n" + DANGER + "\n" + SUICIDE
)
TOO_MANY_STREAMS = "Er staan te veel vensters met dit gesprek open. Sluit er een en probeer het opnieuw."
TOO_MANY_LOGINS = "Te veel mislukte pogingen om in te loggen. Wacht een kwartier, of vraag een beheerder om hulp."


def per_ip_key(ip: str | None) -> str | None:
    """The address to count per IP, or None for a loopback address (see the module docstring)."""
    if ip is None:
        return None
    try:
        return None if ipaddress.ip_address(ip).is_loopback else ip
    except ValueError:
        return ip  # not an address (a test client's name): counted as given


@dataclass(frozen=True)
class Refused:
    """Over a limit: the Dutch text to show and how many seconds until it is worth trying again."""

    text: str
    retry_after_s: int


class RateLimits:
    def __init__(self, desk: DeskSettings) -> None:
        storage = storage_from_string(desk.limits_storage_url)
        assert isinstance(storage, Storage), "a synchronous storage (memory://, redis://)"
        self.storage = storage
        self.limiter = MovingWindowRateLimiter(self.storage)
        self.per_citizen = parse(desk.limit_messages_per_citizen)
        self.per_ip = parse(desk.limit_messages_per_ip)
        self.new_citizens_per_ip = parse(desk.limit_new_citizens_per_ip)
        self.failed_logins_per_name = parse(desk.limit_failed_logins_per_name)
        self.failed_logins_per_ip = parse(desk.limit_failed_logins_per_ip)
        self.streams = StreamSlots(
            per_visitor=desk.limit_streams_per_visitor,
            per_ip=desk.limit_streams_per_ip,
            per_worker=desk.limit_streams_per_worker,
        )

    def _wait(self, item: RateLimitItem, *keys: str) -> int:
        reset = self.limiter.get_window_stats(item, *keys).reset_time
        return max(1, math.ceil(reset - time.time()))

    def citizen_message(self, channel: str, citizen: str, ip: str | None, *, new_citizen: bool) -> Refused | None:
        """Count one message; None when it may go on."""
        try:
            return self._citizen_message(channel, citizen, ip, new_citizen=new_citizen)
        except Exception:  # the storage is away: let it through (see the module docstring)
            log.warning("rate limit storage not reachable; message limits are off for now", exc_info=True)
            return None

    def _citizen_message(self, channel: str, citizen: str, ip: str | None, *, new_citizen: bool) -> Refused | None:
        ip = per_ip_key(ip)
        checks: list[tuple[RateLimitItem, tuple[str, ...]]] = [(self.per_citizen, ("message", channel, citizen))]
        if ip is not None:
            checks.append((self.per_ip, ("message-ip", ip)))
            if new_citizen:
                checks.append((self.new_citizens_per_ip, ("new-citizen-ip", ip)))
        for item, keys in checks:
            if not self.limiter.test(item, *keys):
                return Refused(TOO_FAST, self._wait(item, *keys))
        for item, keys in checks:
            self.limiter.hit(item, *keys)
        return None

    def login_allowed(self, name: str, ip: str | None) -> Refused | None:
        try:
            return self._login_allowed(name, ip)
        except Exception:
            log.warning("rate limit storage not reachable; login limits are off for now", exc_info=True)
            return None

    def _login_allowed(self, name: str, ip: str | None) -> Refused | None:
        ip = per_ip_key(ip)
        checks: list[tuple[RateLimitItem, tuple[str, ...]]] = [
            (self.failed_logins_per_name, ("login-name", name.strip().lower()))
        ]
        if ip is not None:
            checks.append((self.failed_logins_per_ip, ("login-ip", ip)))
        for item, keys in checks:
            if not self.limiter.test(item, *keys):
                return Refused(TOO_MANY_LOGINS, self._wait(item, *keys))
        return None

    def login_failed(self, name: str, ip: str | None) -> None:
        try:
            self._login_failed(name, ip)
        except Exception:
            log.warning("rate limit storage not reachable; a failed login was not counted", exc_info=True)

    def _login_failed(self, name: str, ip: str | None) -> None:
        self.limiter.hit(self.failed_logins_per_name, "login-name", name.strip().lower())
        ip = per_ip_key(ip)
        if ip is not None:
            self.limiter.hit(self.failed_logins_per_ip, "login-ip", ip)

    def reset(self) -> None:
        self.storage.reset()


@dataclass
class StreamSlots:
    """Open live streams at once, per key, in this process (a count, not a rate)."""

    per_visitor: int
    per_ip: int
    per_worker: int
    open: Counter[str] = field(default_factory=Counter)

    @contextmanager
    def hold(self, *keys: tuple[str, int]) -> Iterator[bool]:
        """Yields False (and holds nothing) when any key is at its maximum."""
        if any(self.open[key] >= maximum for key, maximum in keys):
            yield False
            return
        for key, _maximum in keys:
            self.open[key] += 1
        try:
            yield True
        finally:
            for key, _maximum in keys:
                self.open[key] -= 1
                if self.open[key] <= 0:
                    del self.open[key]
