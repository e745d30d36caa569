"""Webhook delivery per the Standard Webhooks convention, from the transactional outbox.

Each due delivery is leased (its ``next_attempt_at`` pushed past the timeout, committed) before it
is sent, so a crashed worker's deliveries are retried by another — at least once, with a stable
``webhook-id`` (``evt-<log index>``) receivers deduplicate on. Headers: ``webhook-id``,
``webhook-timestamp`` (Unix seconds) and ``webhook-signature: v1a,<base64 Ed25519 signature of
"{id}.{timestamp}.{body}">`` by the hub's active key (named in ``webhook-key-id``; verify with
``/.well-known/jwks.json``). Failures back off exponentially; after ``webhook_max_attempts`` the
delivery is dead until an operator re-sends it.
"""

from __future__ import annotations

import base64
import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

import httpx
from sqlmodel import Session

from hub.database import Database
from hub.keystore import KeyStore
from hub.log.changes import event_id
from hub.log.models import WebhookDelivery
from hub.log.repository import LogRepository
from hub.outbox import Outbox, attempted, retry_later
from hub.receivers import Resolver, not_public, resolve
from hub.settings import Settings

log = logging.getLogger("puhui.webhooks")
BATCH = 50


def signature_headers(keystore: KeyStore, msg_id: str, body: bytes, timestamp: int) -> dict[str, str]:
    key = keystore.active()
    signed = f"{msg_id}.{timestamp}.".encode() + body
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": "v1a," + base64.b64encode(key.sign(signed)).decode("ascii"),
        "webhook-key-id": key.kid,
        "content-type": "application/json",
    }


@dataclass(frozen=True)
class Job:
    index: int
    platform: str
    url: str
    attempts: int
    body: bytes


def _jobs(session: Session, due: Sequence[WebhookDelivery]) -> list[Job]:
    bodies = LogRepository(session).bodies([delivery.index for delivery in due])
    return [
        Job(delivery.index, delivery.platform_code, delivery.url, delivery.attempts, bodies[delivery.index])
        for delivery in due
    ]


OUTBOX = Outbox(lambda session, now, limit: LogRepository(session).due_deliveries(now, limit), _jobs, BATCH)


class WebhookWorker:
    def __init__(
        self,
        database: Database,
        keystore: KeyStore,
        settings: Settings,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.database = database
        self.keystore = keystore
        self.settings = settings
        self.transport = transport
        self.client: httpx.Client | None = None  # built at the first delivery, kept
        self.resolver: Resolver = resolve  # the receivers' names to addresses (hub.receivers)

    def _http(self) -> httpx.Client:
        """The worker's HTTP client, kept for its life (building one costs tens of milliseconds:
        once per round, idle rounds included, it was a few percent of a served hub's CPU)."""
        if self.client is None:
            self.client = httpx.Client(transport=self.transport, timeout=self.settings.webhook_timeout)
        return self.client

    def close(self) -> None:
        if self.client is not None:
            self.client.close()
            self.client = None

    def _lease(self, now: datetime) -> list[Job]:
        return OUTBOX.lease(self.database, self.settings, now)

    def _send(self, client: httpx.Client, job: Job) -> str | None:
        """None when delivered, else why not (a receiver at a non-public address is not called)."""
        if not self.settings.private_receivers_allowed and (why := not_public(job.url, self.resolver)):
            return f"not sent: {why}"
        headers = signature_headers(self.keystore, event_id(job.index), job.body, int(time.time()))
        try:
            response = client.post(job.url, content=job.body, headers=headers)
        except httpx.HTTPError as exc:
            return f"{type(exc).__name__}: {exc}"
        return None if 200 <= response.status_code < 300 else f"HTTP {response.status_code}"

    def _record(self, job: Job, error: str | None, now: datetime) -> None:
        with self.database.unit_of_work() as session:
            delivery = LogRepository(session).delivery(job.index, job.platform)
            if delivery is None or delivery.status != "pending":
                return
            attempted(delivery, job.attempts, error)
            if error is None:
                delivery.status, delivery.delivered_at = "delivered", now
            elif delivery.attempts >= self.settings.webhook_max_attempts:
                delivery.status = "dead"
            else:
                retry_later(delivery, self.settings, now)
            session.add(delivery)

    def run_once(self, now: datetime | None = None) -> int:
        """Attempt every due delivery once; how many were delivered."""
        moment = now or datetime.now(UTC)
        jobs = self._lease(moment)
        delivered = 0
        for job in jobs:
            error = self._send(self._http(), job)
            self._record(job, error, now or datetime.now(UTC))
            delivered += error is None
            if error:
                log.info("webhook %s to %s failed: %s", event_id(job.index), job.platform, error)
        return delivered


class Worker(Protocol):
    def run_once(self) -> int: ...


class WorkerThread:
    """Runs a worker in a daemon thread until stopped: round after round while rounds do work, and
    ``interval`` seconds apart once a round finds nothing (or fails) — sooner when ``wakeup`` is
    set (work arrived: a proposal committed in this process), which the next round clears. A round
    that did work sets ``wakes``: what it committed may be another worker's work (the transfer
    rounds' completions are the notice worker's notices to origins)."""

    def __init__(
        self,
        worker: Worker,
        interval: float = 1.0,
        wakeup: threading.Event | None = None,
        wakes: threading.Event | None = None,
    ) -> None:
        self.worker = worker
        self.wakes = wakes
        self.interval = interval
        self._stop = threading.Event()
        self._wakeup = wakeup if wakeup is not None else threading.Event()
        name = f"{type(worker).__name__.lower()}-thread"
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wakeup.clear()  # what was committed before this round, the round sees
            try:
                busy = self.worker.run_once() > 0
            except Exception:  # keep going; the failure is logged
                log.exception("worker round failed")
                busy = False
            if busy and self.wakes is not None:
                self.wakes.set()
            if not busy:
                self._wakeup.wait(self.interval)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wakeup.set()
        self._thread.join(timeout=5)
