"""Requests per client per minute, counted in this process's memory.

Counting in the database made every request — refused ones included — write a row in a
transaction of its own, waiting for the write lock (SQLite) or the row lock (PostgreSQL) behind
the hub's real work. The count here takes a mutex for a dictionary update instead.

The caveat, by design: each hub process counts on its own, so a client spreading its requests
over N processes can make up to N × limit requests a minute (never more: each process refuses
past its own limit). The limit protects the hub from a runaway client, not the ledger — replays,
revocations and suspensions are checked in the database on every request. Windows are fixed
minutes (``Retry-After`` counts the seconds to the next one); refused requests count too.
"""

from __future__ import annotations

import threading
import time


class RateLimiter:
    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._lock = threading.Lock()
        self._window = -1
        self._counts: dict[str, int] = {}

    def hit(self, client_id: str, now: float | None = None) -> int | None:
        """Count one request of ``client_id``; None when it is within the limit, else the
        seconds until the next window (for ``Retry-After``)."""
        now = time.time() if now is None else now
        window = int(now // 60)
        with self._lock:
            if window != self._window:
                self._window, self._counts = window, {}  # a new minute forgets the last one
            count = self._counts.get(client_id, 0) + 1
            self._counts[client_id] = count
        if count <= self.per_minute:
            return None
        return max(1, int((window + 1) * 60 - now))
