"""No citizen data in the desk's logs (issue 14).

- uvicorn's access log shows paths without their query string: a query can hold a widget
  visitor id (a bearer token for that citizen's conversation) or a search.
- SQLAlchemy errors carry their SQL parameters, which are citizen text more often than not;
  the desk's engines hide them (`hide_parameters`, handoff/store/db.py).

The test that runs a conversation end to end and scans every log line for the citizen's
words and visitor id is tests/desk/test_log_privacy.py.
"""

from __future__ import annotations

import logging

ACCESS_LOGGER = "uvicorn.access"


class WithoutQuery(logging.Filter):
    """uvicorn's access record: (client, method, path with query, HTTP version, status)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) == 5 and isinstance(args[2], str) and "?" in args[2]:
            record.args = (args[0], args[1], args[2].split("?", 1)[0] + "?…", args[3], args[4])
        return True


def install() -> None:
    """Once per process, however many apps are created in it."""
    access = logging.getLogger(ACCESS_LOGGER)
    if not any(isinstance(f, WithoutQuery) for f in access.filters):
        access.addFilter(WithoutQuery())
