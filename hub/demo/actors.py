"""The demo's actors: each demo client (platforms SH, JS, ZJ, AH, CCER; operators operator-sh and
operator-js) talking to the hub through its public API with its own credentials, and the way the
hub is reached — over HTTP, or in process through the app itself (what ``make run`` does while it
seeds, before the server listens)."""

from __future__ import annotations

import json
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import anyio.from_thread
import httpx
from fastapi import FastAPI

from adapters.registry import get
from hub.client import PlatformClient
from hub.database import Database
from hub.registry.federation_key import pseudonymizer
from hub.settings import Settings
from hub.transfers.worker import TransferWorker

PLATFORMS = ("SH", "JS", "ZJ", "AH", "CCER")
OPERATORS = {"SH": "operator-sh", "JS": "operator-js"}
RECORDS_FORM = "application/vnd.puhui.records+json"
FINAL_TRANSFER_STATES = frozenset({"completed", "terminated", "rejected", "cancelled"})


@contextmanager
def in_process(app: FastAPI) -> Iterator[httpx.BaseTransport]:
    """An httpx transport that hands each request to ``app`` in this process (Starlette's test
    transport: the app's routes, middleware and mounted sandboxes answer, nothing listens), on one
    event loop kept for the whole block. The app's lifespan is not started: its background workers
    stay off until it is served."""
    with warnings.catch_warnings():  # Starlette's note on httpx is for test suites, not the demo's user
        warnings.simplefilter("ignore")
        from starlette.testclient import TestClient

    client = TestClient(app)
    with anyio.from_thread.start_blocking_portal(**client.async_backend) as portal:
        client.portal = portal  # one loop for every request, instead of one started per request
        try:
            yield client._transport
        finally:
            client.portal = None


class Actors:
    """One PlatformClient per demo client name (``sh``, ``operator-sh``…), made on first use."""

    def __init__(
        self,
        credentials_dir: Path,
        *,
        base_url: str | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.credentials_dir = credentials_dir
        self.base_url = base_url
        self.transport = transport
        self._clients: dict[str, PlatformClient] = {}
        self._sandboxes: dict[str, httpx.Client] = {}

    def __call__(self, name: str) -> PlatformClient:
        if name not in self._clients:
            path = self.credentials_dir / f"{name}.json"
            with warnings.catch_warnings():  # authlib's note on httpx is for its integrators
                warnings.simplefilter("ignore", DeprecationWarning)
                self._clients[name] = PlatformClient.from_credentials(
                    path, base_url=self.base_url, transport=self.transport
                )
        return self._clients[name]

    def platform(self, code: str) -> PlatformClient:
        return self(code.lower())

    def operator(self, region: str) -> PlatformClient:
        return self(OPERATORS[region])

    def sandbox(self, code: str) -> httpx.Client:
        """The platform's own system (its demo sandbox, mounted by the hub under /sandbox/<code>)."""
        if code not in self._sandboxes:
            base = self.base_url or self("sh").base_url
            self._sandboxes[code] = httpx.Client(
                base_url=f"{base}/sandbox/{code.lower()}", transport=self.transport, timeout=10
            )
        return self._sandboxes[code]

    def close(self) -> None:
        """Close every client (and so the transport they share: only at the end)."""
        for client in self._clients.values():
            client.close()
        for sandbox in self._sandboxes.values():
            sandbox.close()
        self._clients.clear()
        self._sandboxes.clear()

    def __enter__(self) -> Actors:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def send_records(actors: Actors, code: str, body: dict[str, Any]) -> dict[str, Any]:
    """The platform pushes records in the exchange form (``POST /v1/platforms/{code}/batches``)."""
    answer: dict[str, Any] = (
        actors.platform(code)
        .request(
            "POST",
            f"/v1/platforms/{code}/batches",
            content=json.dumps(body, ensure_ascii=False).encode(),
            content_type=RECORDS_FORM,
        )
        .json()
    )
    return answer


def exchange_records(code: str, payload: bytes, content_type: str, federation_key: Path) -> dict[str, Any]:
    """The exchange form of a platform's local payload, parsed on the platform's side."""
    parsed = get(code).parse(payload, content_type=content_type, pseudonymizer=pseudonymizer(federation_key))
    if not parsed.ok:
        raise ValueError(f"{code}: the demo's own payload does not parse: {parsed.errors[0].reason}")
    return {"projects": parsed.projects, "blocks": parsed.blocks, "batches": parsed.batches}


def worker_rounds(
    database: Database, settings: Settings, transport: httpx.BaseTransport
) -> Callable[[], int]:
    """One round of the hub's transfer worker against the sandboxes through ``transport`` (in
    process, before the hub is served, the server's own worker thread is not running yet)."""
    worker = TransferWorker(database, settings, transport=transport)
    rounds = 0

    def run() -> int:
        nonlocal rounds
        rounds += 1
        return worker.run_once(datetime.now(UTC) + timedelta(seconds=rounds))

    return run
