"""A request pace: an httpx transport that never starts more than ``rate`` requests in any second.

Every request of the traffic simulator — token requests, the hub's API, the platforms' own
sandboxes — goes through one ``PacedTransport``: request starts are spaced at least ``1/rate``
seconds apart, so any half-open window of one second holds at most ``rate`` of them. The start
times are kept, so a run can show (and a test check) the bound it kept.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import httpx


class PacedTransport(httpx.BaseTransport):
    def __init__(
        self,
        inner: httpx.BaseTransport,
        rate: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError("the rate is a positive number of requests per second")
        self.inner = inner
        self.interval = 1.0 / rate + 1e-6  # a microsecond more: float sums never squeeze one extra in
        self.clock = clock
        self.sleep = sleep
        self.started: list[float] = []
        self._next = 0.0
        self._lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            now = self.clock()
            if now < self._next:
                self.sleep(self._next - now)
                now = max(self.clock(), self._next)
            self._next = now + self.interval
            self.started.append(now)
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


def busiest_second(started: list[float]) -> int:
    """The most request starts in any half-open window [t, t + 1 s)."""
    most, first = 0, 0
    for last, moment in enumerate(started):
        while started[first] <= moment - 1.0:
            first += 1
        most = max(most, last - first + 1)
    return most
