"""``puhui demo federation``: a federation of two hubs on loopback, in one process.

- the **YRD hub** (the Yangtze River Delta demo: SH, JS, ZJ, AH and CCER, its history played) on
  ``--port`` (8000), data under ``PUHUI_DATA_DIR/yrd``, origin ``yrd.puhui.demo/log``;
- the **GD hub** (``hub.demo.guangdong``: platform GD, its operator, administrators and standards
  committee) on ``--second-port`` (8001), data under ``PUHUI_DATA_DIR/gd`` (or ``--gd-database``,
  e.g. a PostgreSQL URL), origin ``gd.puhui.demo/log``.

Each has its own database and keys; both share the federation's pseudonymization key (cross-hub
personal-activity deduplication compares pseudonyms made with it). Once both serve, each hub's
administrator registers the other (``POST /v1/peers`` with the other's ``GET /v1/hub``), so they
witness each other's logs, and a Jiangsu platform asks recognition of Kunshan PV credits for use
in Guangdong: the YRD hub holds the serials and forwards the request; it waits for ``operator-gd``
in the GD hub's console. Everything is idempotent: starting again reuses both databases.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI

from hub.app import create_app
from hub.client import PlatformClient, Refused
from hub.database import Database
from hub.demo.guangdong import recognition_for_guangdong, seed_gd
from hub.migrate import upgrade
from hub.platforms.service import PlatformService
from hub.settings import Settings

YRD_ORIGIN, GD_ORIGIN = "yrd.puhui.demo/log", "gd.puhui.demo/log"
# free serials of the demo's Kunshan PV block (JS-B-2025-000001, 100001–100350) to try in turn
GD_RANGES = [(100301, 100350), (100251, 100300), (100201, 100250)]


@dataclass
class DemoHub:
    name: str
    settings: Settings
    app: FastAPI
    credentials: Path

    @property
    def url(self) -> str:
        return self.settings.resolved_public_url

    def client(self, name: str) -> PlatformClient:
        return PlatformClient.from_credentials(self.credentials / f"{name}.json")


def hub_settings(
    base: Settings, name: str, port: int, origin: str, *, demo: bool, database_url: str | None = None
) -> Settings:
    """``base`` for one hub of the pair: its own data, database, keys, port and origin; the shared
    federation key."""
    values: dict[str, Any] = base.model_dump(exclude_none=True)
    for own in ("database_url", "keys_dir", "public_url", "data_dir", "port", "origin", "demo"):
        values.pop(own, None)
    return Settings(
        **values,
        data_dir=base.data_dir / name,
        port=port,
        origin=origin,
        demo=demo,
        database_url=database_url,
        federation_key_file=base.resolved_federation_key_file,
    )


def prepare(
    base: Settings,
    port: int,
    second_port: int,
    gd_database: str | None,
    seed_yrd: Callable[[Settings, FastAPI], None],
) -> tuple[DemoHub, DemoHub]:
    """Both hubs migrated, seeded when empty, their apps built (not yet served)."""
    yrd_settings = hub_settings(base, "yrd", port, YRD_ORIGIN, demo=True)
    gd_settings = hub_settings(base, "gd", second_port, GD_ORIGIN, demo=False, database_url=gd_database)
    for settings in (yrd_settings, gd_settings):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        upgrade(settings.resolved_database_url)
    yrd_app = create_app(yrd_settings)
    seed_yrd(yrd_settings, yrd_app)
    gd_app = create_app(gd_settings)
    database: Database = gd_app.state.database
    with database.unit_of_work() as session:
        empty = PlatformService(session).is_empty()
    credentials = seed_gd(database, gd_settings) if empty else gd_settings.data_dir / "demo" / "credentials"
    return (
        DemoHub("YRD", yrd_settings, yrd_app, yrd_settings.data_dir / "demo" / "credentials"),
        DemoHub("GD", gd_settings, gd_app, credentials),
    )


def peer(hub: DemoHub, other: DemoHub, admin: str) -> str:
    """``hub``'s administrator registers ``other`` (once)."""
    with hub.client(admin) as client:
        if any(p["origin"] == other.settings.log_origin for p in client.get("/v1/peers")):
            return f"{hub.name} already peered with {other.settings.log_origin}"
        identity = httpx.get(f"{other.url}/v1/hub", timeout=10).raise_for_status().json()
        client.post("/v1/peers", identity)
    return f"{hub.name} ({admin}) registered {other.settings.log_origin} at {other.url}"


def ask_recognition(yrd: DemoHub) -> str:
    """Jiangsu asks recognition of Kunshan PV credits in Guangdong (unless it did already)."""
    with yrd.client("js") as js:
        for found in js.get("/v1/recognitions"):
            if found.get("destination") == "GD":
                return f"cross-hub recognition {found['id']} (JS -> GD) is {found['status']}"
        for number, (start, end) in enumerate(GD_RANGES, 1):
            request = recognition_for_guangdong(f"RR-GD-DEMO-{number:04d}", start, end)
            try:
                made = js.post("/v1/recognitions", {"request": request})
            except Refused:
                continue  # those serials are taken (the demo's history or traffic): the next range
            return (
                f"cross-hub recognition {made['id']}: JS asks {end - start + 1} t of the Kunshan PV "
                f"credits (serials {start}-{end}) for use in Guangdong; forwarded to the GD hub"
            )
    return "no free Kunshan serials left for a cross-hub recognition"


def federate(yrd: DemoHub, gd: DemoHub) -> list[str]:
    """Peer the two hubs (each administrator registers the other) and start the cross-hub story."""
    return [peer(yrd, gd, "admin-1"), peer(gd, yrd, "admin-gd"), ask_recognition(yrd)]


class _Server(uvicorn.Server):
    """A uvicorn server that leaves signals to ``serve_together`` (two servers, one Ctrl-C)."""

    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


async def serve_together(
    hubs: list[DemoHub], host: str, log_level: str, after_start: Callable[[], None]
) -> None:
    servers = [
        _Server(uvicorn.Config(hub.app, host=host, port=hub.settings.port, log_level=log_level))
        for hub in hubs
    ]
    loop = asyncio.get_running_loop()

    def stop() -> None:
        for server in servers:
            server.should_exit = True

    for number in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(number, stop)

    async def when_started() -> None:
        while not all(server.started for server in servers):
            if any(server.should_exit for server in servers):
                return
            await asyncio.sleep(0.05)
        await asyncio.to_thread(after_start)

    await asyncio.gather(*(server.serve() for server in servers), when_started())
