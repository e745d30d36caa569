"""Helpers for witness tests: a log made in memory (entries, signed checkpoints, consistency proofs,
forks) and two hubs in one process — each its own ``create_app`` with its own database, keystore
and origin — reached through one httpx transport that routes by base URL.

The router also stands in for ``/log/checkpoint`` and ``/log/tile/...`` of a hub whose app does not
serve them yet (they come with the log's C2SP routes): the stand-in reads the hub's own stored
checkpoint and subtree hashes, as the real routes do. Once the app serves them, the app answers.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import FastAPI
from fastapi.testclient import TestClient

from hub.app import create_app
from hub.database import Database
from hub.keystore import KeyStore
from hub.log.repository import LogRepository
from hub.settings import Settings
from hub.tlog.checkpoints import CheckpointService, CosignedCheckpoint
from transparency.checkpoint import Checkpoint
from transparency.merkle import Node, appended_nodes, consistency_ranges, leaf_hash, range_hash
from transparency.note import Note, Signer, sign_note
from transparency.tiles import TileError, parse_tile_path, width_at
from transparency.witness import AddCheckpoint


class FakeLog:
    """A log held in memory: what a witness is shown, honestly or not."""

    def __init__(
        self, origin: str, count: int = 0, *, signer: Signer | None = None, tag: bytes = b"entry"
    ) -> None:
        self.origin = origin
        self.signer = signer or Signer(origin, Ed25519PrivateKey.generate())
        self.tag = tag
        self.entries: list[bytes] = []
        self.stored: dict[Node, bytes] = {}
        self.grow(count)

    @property
    def vkey(self) -> str:
        return self.signer.verifier.vkey

    def grow(self, count: int) -> FakeLog:
        for _ in range(count):
            self.append(self.tag + b"-" + str(len(self.entries)).encode())
        return self

    def append(self, entry: bytes) -> None:
        index = len(self.entries)
        self.entries.append(entry)
        self.stored.update(dict(appended_nodes(index, leaf_hash(entry), self.stored)))

    def fork(self, index: int) -> FakeLog:
        """The same log key over another history: entry ``index`` rewritten."""
        other = FakeLog(self.origin, signer=self.signer, tag=self.tag)
        for position, entry in enumerate(self.entries):
            other.append(b"forged" if position == index else entry)
        return other

    def checkpoint(self, size: int) -> Checkpoint:
        return Checkpoint(self.origin, size, range_hash(0, size, self.stored))

    def note(self, size: int, signers: list[Signer] | None = None) -> Note:
        return sign_note(self.checkpoint(size).text(), signers or [self.signer])

    def proof(self, old: int, size: int) -> tuple[bytes, ...]:
        if old == 0 or old == size:
            return ()
        return tuple(range_hash(start, end, self.stored) for start, end in consistency_ranges(old, size))

    def request(
        self, old: int, size: int, *, proof: tuple[bytes, ...] | None = None, note: Note | None = None
    ) -> bytes:
        body = AddCheckpoint(old, self.proof(old, size) if proof is None else proof, note or self.note(size))
        return body.render().encode()


@dataclass
class Hub:
    """One hub of the federation under test."""

    name: str
    base_url: str
    settings: Settings
    database: Database
    app: FastAPI
    client: TestClient
    keystore: KeyStore = field(init=False)

    def __post_init__(self) -> None:
        self.keystore = self.app.state.keystore

    @property
    def origin(self) -> str:
        return self.settings.log_origin

    def checkpoint(self) -> CosignedCheckpoint:
        """Sign the checkpoint of the log's current size (as the checkpointer does)."""
        with self.database.unit_of_work() as session:
            return CheckpointService(session, self.settings, self.keystore).advance()


def hub_settings(tmp_path: Path, name: str) -> Settings:
    host = f"{name}.hub.test"
    return Settings(
        data_dir=tmp_path / name,
        public_url=f"http://{host}",
        origin=f"{host}/log",
        webhook_worker=False,
    )


def _standin(hub: Hub, path: str) -> httpx.Response | None:
    """``/log/checkpoint`` and ``/log/tile/...`` read from the hub's own storage, for an app that
    does not serve them (yet)."""
    if path == "/log/checkpoint":
        with hub.database.unit_of_work() as session:
            latest = CheckpointService(session, hub.settings, hub.keystore).latest()
        if latest is None:
            return httpx.Response(404, text="no checkpoint yet\n")
        return httpx.Response(
            200, text=latest.render(), headers={"content-type": "text/plain; charset=utf-8"}
        )
    if path.startswith("/log/tile/"):
        try:
            tile = parse_tile_path(path.removeprefix("/log/"))
        except TileError:
            return httpx.Response(400, text="not a tile path\n")
        if tile.level is None:
            return httpx.Response(404, text="no entry bundles here\n")
        with hub.database.unit_of_work() as session:
            repository = LogRepository(session)
            size = repository.size()
            if width_at(tile, size) < tile.width:
                return httpx.Response(404, text="no such tile\n")
            found = repository.nodes(set(tile.nodes()))
        return httpx.Response(200, content=b"".join(found[node] for node in tile.nodes()))
    return None


class HubRouter(httpx.BaseTransport):
    """Routes each request to the hub whose base URL it names (one transport for both)."""

    def __init__(self, hubs: list[Hub], *, standins: bool = True) -> None:
        self.hubs = {httpx.URL(hub.base_url).host: hub for hub in hubs}
        self.standins = standins
        self.down: set[str] = set()
        self.paths: list[str] = []  # every path asked, in order

    def served(self, hub: Hub, path: str) -> bool:
        return any(getattr(route, "path", None) == path for route in hub.app.routes)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        host = request.url.host
        self.paths.append(request.url.path)
        if host in self.down or host not in self.hubs:
            raise httpx.ConnectError(f"{host} is down", request=request)
        hub = self.hubs[host]
        path = request.url.path
        if self.standins and not self.served(hub, "/log/checkpoint") and path.startswith("/log/"):
            answer = _standin(hub, path)
            if answer is not None:
                return answer
        served: httpx.Response = hub.client._transport.handle_request(request)
        return served


@contextmanager
def two_hubs(
    tmp_path: Path, database_a: Database, database_b: Database
) -> Iterator[tuple[Hub, Hub, HubRouter]]:
    """Hubs A and B (``a.hub.test``, ``b.hub.test``), each with its own database and keys."""
    hubs = []
    with ExitStack() as stack:
        for name, database in (("a", database_a), ("b", database_b)):
            settings = hub_settings(tmp_path, name)
            app = create_app(settings, database)
            client = stack.enter_context(TestClient(app, base_url=settings.resolved_public_url))
            hubs.append(Hub(name, settings.resolved_public_url, settings, database, app, client))
        yield hubs[0], hubs[1], HubRouter(hubs)


def alarm_banner(hub: Hub, password: str, username: str) -> str:
    """The console's queue page as an operator of ``hub`` sees it (English)."""
    import re

    from hub.console.i18n import LANGUAGE_COOKIE

    hub.client.cookies.set(LANGUAGE_COOKIE, "en")
    form = hub.client.get("/console/login")
    token = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert token is not None
    hub.client.post(
        "/console/login",
        data={"username": username, "password": password, "csrf": token.group(1)},
        follow_redirects=False,
    )
    page: str = hub.client.get("/console").text
    return page


def row_values(row: Any) -> dict[str, Any]:
    return dict(row._mapping)
