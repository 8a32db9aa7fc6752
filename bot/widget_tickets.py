"""Stream tickets for the widget (issue 14): a browser's EventSource cannot send a header, so
the widget trades its visitor id (sent in a header) for a ticket that opens one live stream.

A ticket names the citizen by the desk's internal number, expires after TICKET_S and is
signed with the desk's secret key (HMAC-SHA256): it is useless for anything else and soon
useless altogether, so a URL that leaks (a proxy's log, a browser history) leaks nothing
that lasts. An open stream goes on after its ticket expired; a reconnect needs a new one.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

TICKET_S = 60


def _sign(key: bytes, payload: str) -> str:
    digest = hmac.new(key, f"widget-stream:{payload}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def issue(key: bytes, citizen_id: int, now: float | None = None) -> str:
    payload = f"{citizen_id}.{int((now or time.time()) + TICKET_S)}"
    return f"{payload}.{_sign(key, payload)}"


def read(key: bytes, ticket: str, now: float | None = None) -> int | None:
    """The citizen the ticket is for, or None when it is forged, malformed or expired."""
    parts = ticket.split(".")
    if len(parts) != 3 or not (parts[0].isdigit() and parts[1].isdigit()):
        return None
    payload = f"{parts[0]}.{parts[1]}"
    if not hmac.compare_digest(parts[2], _sign(key, payload)) or int(parts[1]) < (now or time.time()):
        return None
    return int(parts[0])
