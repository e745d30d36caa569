"""Wake-up across processes on PostgreSQL: a thread LISTENs on the proposals' channel
(``hub.transfers.repository.DUE_CHANNEL``; each proposal's transaction sends a NOTIFY, delivered
only once it commits) and sets the transfer worker's wakeup, so an idle worker in any process —
``puhui work``, or another ``--processes`` worker — takes a committed proposal at once instead of at
its next look. SQLite has no such channel: its workers look every poll interval."""

from __future__ import annotations

import logging
import threading

import psycopg
from sqlalchemy.engine import make_url

from hub.transfers.repository import DUE_CHANNEL

log = logging.getLogger("puhui.transfers")


def libpq_url(url: str) -> str:
    """The SQLAlchemy URL as libpq reads it (no ``+psycopg`` driver name)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


class DueListener:
    """Sets ``due`` on every notice on the channel, from its own connection (autocommit, LISTEN);
    reconnects after ``retry`` seconds when the connection fails. ``listening`` is set once it
    listens (what committed before, the worker's next round sees anyway: ``due`` is set then)."""

    def __init__(self, url: str, due: threading.Event, retry: float = 1.0) -> None:
        self.url = libpq_url(url)
        self.due = due
        self.retry = retry
        self.listening = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="transfers-listener-thread", daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                with psycopg.connect(self.url, autocommit=True) as connection:
                    connection.execute(f"LISTEN {DUE_CHANNEL}")
                    self.listening.set()
                    self.due.set()
                    while not self._stop.is_set():
                        for _notice in connection.notifies(timeout=0.25):
                            self.due.set()
            except psycopg.Error:
                log.exception("listening for due transfers failed; again in %s s", self.retry)
            self.listening.clear()
            self._stop.wait(self.retry)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
