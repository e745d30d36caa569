"""Two hubs in one process, each with its own database, key store and data directory, talking
to each other through an in-process network (no sockets): the YRD hub (``yrd``: SH, JS, ZJ, AH,
CCER, the demo federation without issuances, Jiangsu holding the 350 t Kunshan PV block
JS-B-2025-000001, serials 100001-100350) and a
Guangdong hub (``gd``: the GD platform, its operator and administrator, a committee whose
ruleset recognizes Jiangsu PV credits in Guangdong). Reusable by every federation test:

    with open_two_hubs(yrd_database, gd_database, tmp_path) as hubs:  # seeded: seed_yrd_hub, seed_gd_hub
        hubs.peer()                       # each side's administrator registers the other
        js = hubs.yrd.as_client("js")     # a PlatformClient of the YRD hub
        hubs.drain()                      # run both hubs' peer outboxes until nothing is due
        hubs.network.cut(hubs.gd)         # the GD hub becomes unreachable (ConnectError) ...
        hubs.network.restore(hubs.gd)     # ... and reachable again

``Hub`` gives a hub's ``settings``, ``database``, ``client`` (a Starlette TestClient),
``keystore``, ``origin``, ``as_client(name)`` and ``identity()``. ``Network`` is an
``httpx.BaseTransport`` routing by host to each hub's app; pass ``hubs.network`` as the transport
of any worker or client that calls a hub. Each hub serves its platforms' sandboxes under
``/sandbox/<code>`` (the YRD hub SH, JS, ZJ, AH, CCER; the GD hub GD, Shanghai's JSON format under
the code GD: ``GuangdongSandboxAdapter``); ``hubs.settle()`` runs the peer outboxes and both hubs'
transfer workers (the saga's rounds, the inbound credits, the notices to origins).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import httpx
from fastapi.testclient import TestClient

from adapters.contract import RegionAdapter
from adapters.registry import available
from adapters.sandbox import create_sandbox
from adapters.shanghai import ShanghaiAdapter
from hub.app import create_app
from hub.client import PlatformClient
from hub.crosshub.worker import PeerWorker
from hub.database import Database
from hub.demo.guangdong import GD_COMMITTEE, gd_ruleset_payload, recognition_for_guangdong, seed_gd  # noqa: F401 (re-exported)
from hub.keystore import KeyStore
from hub.notices.worker import NoticeWorker
from hub.registry.ingest import IngestService, Records
from hub.seed import seed_demo
from hub.settings import Settings
from hub.transfers.worker import TransferWorker
from hub.xtransfer.worker import InboundTransferWorker
from tests.hub.conftest import example

# loopback addresses (the OAuth client insists on https elsewhere), origins named for reading
YRD_URL, GD_URL = "http://127.0.0.1:8101", "http://127.0.0.1:8102"
YRD_ORIGIN, GD_ORIGIN = "yrd.hub.test/log", "gd.hub.test/log"


def kunshan_for_guangdong(
    request_id: str = "RR-GD-0001", start: int = 100001, end: int = 100120
) -> dict[str, Any]:
    """A recognition request: part of the Kunshan PV credits (JS, YRD hub) for the voluntary
    neutralization of a Guangdong organisation (GD, served by the GD hub)."""
    return recognition_for_guangdong(request_id, start, end)


@dataclass
class Hub:
    """One hub of the pair."""

    name: str
    settings: Settings
    database: Database
    client: TestClient
    credentials: Path
    _made: list[PlatformClient] = field(default_factory=list, repr=False)

    @property
    def origin(self) -> str:
        return self.settings.log_origin

    @property
    def host(self) -> str:
        return httpx.URL(self.settings.resolved_public_url).netloc.decode("ascii")

    @property
    def keystore(self) -> KeyStore:
        keystore: KeyStore = self.client.app.state.keystore  # type: ignore[attr-defined]
        return keystore

    @property
    def transport(self) -> httpx.BaseTransport:
        """The hub's in-process transport (its app, no network)."""
        transport: httpx.BaseTransport = self.client._transport
        return transport

    def as_client(self, name: str) -> PlatformClient:
        """A PlatformClient of this hub with the credentials of its client ``name``."""
        made = PlatformClient.from_credentials(self.credentials / f"{name}.json", transport=self.transport)
        self._made.append(made)
        return made

    def logged(self, type: str) -> list[dict[str, Any]]:
        """The log entries of ``type`` (decoded), oldest first."""
        from sqlmodel import col, select

        from hub.log.models import LogEntry

        with self.database.unit_of_work() as session:
            rows = session.exec(select(LogEntry).where(LogEntry.type == type).order_by(col(LogEntry.index)))
            return [json.loads(row.entry) for row in rows]

    def identity(self) -> dict[str, Any]:
        answer: dict[str, Any] = self.client.get("/v1/hub").json()
        return answer

    def close(self) -> None:
        for made in self._made:
            made.close()


class Network(httpx.BaseTransport):
    """The hubs' in-process network: routes a request to the hub its host names; a cut hub is
    unreachable (``httpx.ConnectError``), as a hub that is down or partitioned away."""

    def __init__(self) -> None:
        self.hubs: dict[str, Hub] = {}
        self.down: set[str] = set()
        self.deaf: set[str] = set()  # hosts whose answers are lost after they acted
        self.sent: list[tuple[str, str, str]] = []  # (method, host, path) of every request routed

    def join(self, hub: Hub) -> None:
        self.hubs[hub.host] = hub

    def cut(self, hub: Hub) -> None:
        self.down.add(hub.host)

    def restore(self, hub: Hub) -> None:
        self.down.discard(hub.host)
        self.deaf.discard(hub.host)

    def lose_answers(self, hub: Hub) -> None:
        """``hub`` acts on what it receives but its answers never arrive (a timeout after the fact)."""
        self.deaf.add(hub.host)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        host = request.url.netloc.decode("ascii")
        self.sent.append((request.method, host, request.url.path))
        if host in self.down or host not in self.hubs:
            raise httpx.ConnectError(f"{host} is unreachable", request=request)
        response = self.hubs[host].transport.handle_request(request)
        if host in self.deaf:
            response.read()
            raise httpx.ReadTimeout(f"{host} acted but its answer was lost", request=request)
        return response


@dataclass
class TwoHubs:
    yrd: Hub
    gd: Hub
    network: Network
    workers: list[Callable[[datetime], int]] = field(default_factory=list)
    transfer_workers: list[Callable[[datetime], int]] = field(default_factory=list)

    def hubs(self) -> tuple[Hub, Hub]:
        return self.yrd, self.gd

    def other(self, hub: Hub) -> Hub:
        return self.gd if hub is self.yrd else self.yrd

    def register(self, on: Hub, peer: Hub, admin: str | None = None) -> dict[str, Any]:
        """``on``'s administrator registers ``peer`` (its ``GET /v1/hub``) through ``/v1/peers``."""
        client = on.as_client(admin or ("admin-1" if on is self.yrd else "admin-gd"))
        answer: dict[str, Any] = client.post("/v1/peers", peer.identity())
        return answer

    def peer(self) -> None:
        """Each side's administrator registers the other."""
        self.register(self.yrd, self.gd)
        self.register(self.gd, self.yrd)

    def drain(self, rounds: int = 6, *, start: datetime | None = None) -> None:
        """Run every registered worker (``add_worker``) ``rounds`` times, each round an hour
        later than the one before (so backoffs are due), until a round does nothing."""
        moment = start or datetime.now(UTC)
        for _ in range(rounds):
            done = sum(work(moment) for work in self.workers)
            moment += timedelta(hours=1)
            if not done:
                return

    def add_worker(self, work: Callable[[datetime], int]) -> None:
        self.workers.append(work)

    def settle(
        self, rounds: int = 12, *, start: datetime | None = None, step: timedelta = timedelta(seconds=30)
    ) -> datetime:
        """Run both hubs' peer outboxes and transfer workers (``transfer_workers``: the saga's and
        the inbound credits') ``rounds`` times, ``step`` apart (within a transfer's deadline by
        default), until a round does nothing; the moment after the last round."""
        moment = start or datetime.now(UTC)
        for _ in range(rounds):
            done = sum(work(moment) for work in [*self.workers, *self.transfer_workers])
            moment += step
            if not done:
                break
        return moment


class GuangdongSandboxAdapter(ShanghaiAdapter):
    """The GD platform's stand-in for the harness: a sandbox that speaks Shanghai's JSON format
    under the code GD (no GD adapter is registered; the GD hub's worker and sandbox find this
    one while the hubs are open)."""

    code = "GD"
    name = "Guangdong Carbon Inclusion Platform (test sandbox)"
    name_zh = "广东碳普惠平台（测试沙箱）"


def _sandboxes(app: Any, codes: list[str]) -> None:
    """Mount each platform's sandbox at /sandbox/<code> (as the demo hub does)."""
    for code in codes:
        pages: list[bytes] | None = (
            [] if code == "GD" else None
        )  # the GD sandbox starts empty (no fixtures of its own)
        app.mount(f"/sandbox/{code.lower()}", create_sandbox(code, pages=pages))


def _settings(data_dir: Path, url: str, origin: str) -> Settings:
    return Settings(data_dir=data_dir, public_url=url, origin=origin, webhook_worker=False)


def seed_yrd_hub(database: Database, data_dir: Path) -> None:
    """The YRD hub's seed: the demo federation without issuances, Jiangsu holding the Kunshan PV
    block (350 t); the clients' credentials under ``data_dir``."""
    seed_demo(database, _settings(data_dir, YRD_URL, YRD_ORIGIN), with_issuances=False)
    with database.unit_of_work() as session:
        kunshan = Records(
            [example("project", "kunshan-pv-399kw")], [example("credit-block", "kunshan-pv-399kw")]
        )
        IngestService(session).ingest("JS", kunshan, actor="test-seed", source="test")


def seed_gd_hub(database: Database, data_dir: Path) -> None:
    """The GD hub's seed (``seed_gd``); the clients' credentials under ``data_dir``."""
    seed_gd(database, _settings(data_dir, GD_URL, GD_ORIGIN))


@contextmanager
def open_two_hubs(yrd_database: Database, gd_database: Database, root: Path) -> Iterator[TwoHubs]:
    """The two hubs (not yet peered), their apps running, on the given databases: seeded by
    ``seed_yrd_hub`` and ``seed_gd_hub`` with the data directories ``root / "yrd"`` and
    ``root / "gd"`` (the tests' fixtures copy both from templates seeded once)."""
    network = Network()
    with ExitStack() as stack:
        yrd_settings = _settings(root / "yrd", YRD_URL, YRD_ORIGIN)
        gd_settings = _settings(root / "gd", GD_URL, GD_ORIGIN)
        registered = available()
        if "GD" not in registered:  # the GD platform's sandbox adapter, while the hubs are open
            registered["GD"] = cast(RegionAdapter, GuangdongSandboxAdapter())
            stack.callback(registered.pop, "GD", None)
        hubs = []
        for name, settings, database, codes in (
            ("yrd", yrd_settings, yrd_database, ["SH", "JS", "ZJ", "AH", "CCER"]),
            ("gd", gd_settings, gd_database, ["GD"]),
        ):
            app = create_app(settings, database)
            app.state.peer_transport = network
            _sandboxes(app, codes)
            client = stack.enter_context(TestClient(app, base_url=settings.resolved_public_url))
            hub = Hub(name, settings, database, client, settings.data_dir / "demo" / "credentials")
            stack.callback(hub.close)
            network.join(hub)
            hubs.append(hub)
        pair = TwoHubs(hubs[0], hubs[1], network)
        for hub in hubs:
            worker = PeerWorker(hub.database, hub.keystore, hub.settings, transport=network)
            pair.add_worker(worker.run_once)
            saga = TransferWorker(hub.database, hub.settings, transport=network)
            stack.callback(saga.close)
            inbound = InboundTransferWorker(hub.database, hub.settings, transport=network)
            notices = NoticeWorker(hub.database, hub.settings, transport=network)
            pair.transfer_workers += [saga.run_once, inbound.run_once, notices.run_once]
        yield pair


def problem_of(response: httpx.Response) -> tuple[int, str | None]:
    """A response's status and check code."""
    try:
        body = response.json()
    except json.JSONDecodeError:
        body = {}
    return response.status_code, body.get("code") if isinstance(body, dict) else None
