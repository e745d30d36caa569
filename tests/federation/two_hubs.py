"""Two hubs in one process, each with its own database, key store and data directory, talking
to each other through an in-process network (no sockets): the YRD hub (``yrd``: SH, JS, ZJ, AH,
CCER, the demo federation without issuances, Jiangsu holding the 350 t Kunshan PV block
JS-B-2025-000001, serials 100001-100350) and a
Guangdong hub (``gd``: the GD platform, its operator and administrator, a committee whose
ruleset recognizes Jiangsu PV credits in Guangdong). Reusable by every federation test:

    with open_two_hubs(yrd_database, gd_database, tmp_path) as hubs:
        hubs.peer()                       # each side's administrator registers the other
        js = hubs.yrd.as_client("js")     # a PlatformClient of the YRD hub
        hubs.drain()                      # run both hubs' peer outboxes until nothing is due
        hubs.network.cut(hubs.gd)         # the GD hub becomes unreachable (ConnectError) ...
        hubs.network.restore(hubs.gd)     # ... and reachable again

``Hub`` gives a hub's ``settings``, ``database``, ``client`` (a Starlette TestClient),
``keystore``, ``origin``, ``as_client(name)`` and ``identity()``. ``Network`` is an
``httpx.BaseTransport`` routing by host to each hub's app; pass ``hubs.network`` as the transport
of any worker or client that calls a hub.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from fastapi.testclient import TestClient

from hub.app import create_app
from hub.auth.scopes import ClientKind
from hub.auth.service import ClientService
from hub.client import PlatformClient
from hub.console.accounts import Accounts
from hub.crosshub.worker import PeerWorker
from hub.database import Database
from hub.keystore import KeyStore, replace_private_file
from hub.platforms.models import PlatformCreate, PlatformKind
from hub.platforms.service import PlatformService
from hub.registry.ingest import IngestService, Records
from hub.seed import seed_demo
from hub.settings import Settings
from hub.standards.service import StandardsService
from schemas.jwk import Ed25519Key
from standards import make_envelope, sign_envelope
from tests.hub.conftest import example

# loopback addresses (the OAuth client insists on https elsewhere), origins named for reading
YRD_URL, GD_URL = "http://127.0.0.1:8101", "http://127.0.0.1:8102"
YRD_ORIGIN, GD_ORIGIN = "yrd.hub.test/log", "gd.hub.test/log"


def kunshan_for_guangdong(
    request_id: str = "RR-GD-0001", start: int = 100001, end: int = 100120
) -> dict[str, Any]:
    """A recognition request: part of the Kunshan PV credits (JS, YRD hub) for the voluntary
    neutralization of a Guangdong organisation (GD, served by the GD hub)."""
    request = example("recognition-request", "kunshan-pv-for-shanghai-ets")
    del request["compliance"]
    request.update(
        request_id=request_id,
        destination_registry="GD",
        purpose="voluntary-neutralization",
        quantity=end - start + 1,
        beneficiary={"registry": "GD", "account_id": "GD-A-ORG-0007"},
        note="demonstration: Kunshan PV credits for a Guangdong organisation's neutralization",
    )
    request["blocks"][0].update(start=start, end=end, quantity=end - start + 1)
    return request


GD_COMMITTEE = "gd-committee"


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


def gd_ruleset_payload() -> dict[str, Any]:
    """The GD hub's demonstration ruleset: Jiangsu distributed PV credits recognized in Guangdong."""
    return {
        "ruleset_id": "gd-recognition",
        "version": 1,
        "committee": GD_COMMITTEE,
        "effective_from": "2026-01-01",
        "equivalences": [
            {
                "equivalence_id": "js-gd-pv",
                "origin": {"registry": "JS", "catalogue_id": "PV-DISTRIBUTED"},
                "destination": {"registry": "GD", "catalogue_id": "PV-DISTRIBUTED"},
                "factor": {"numerator": 1, "denominator": 1},
                "rounding": "floor",
                "conditions": [
                    {"vintage_range": {"min": 2022, "max": 2030}},
                    {"not_registered_in": ["CCER"]},
                ],
                "purposes": ["voluntary-neutralization", "charitable-retirement"],
                "note": "demonstration: 1:1 between two hubs' regions, no published conversion",
            }
        ],
        "purpose_rules": [
            {"destination": "GD", "purpose": "voluntary-neutralization", "accepted_origins": ["JS"]},
            {"destination": "GD", "purpose": "charitable-retirement", "accepted_origins": ["JS"]},
        ],
        "sources": ["DEMONSTRATION VALUES, NOT OFFICIAL POLICY: a Guangdong hub's test ruleset."],
        "demonstration": True,
    }


def seed_gd(database: Database, settings: Settings) -> Path:
    """The GD hub: platform GD, clients ``gd``, ``operator-gd`` (with a console account: its password in
    ``operator-gd.console.json``), ``admin-gd``, ``admin-gd-2``, and
    a one-member committee that published ``gd_ruleset_payload``; the credentials directory."""
    directory = settings.data_dir / "demo" / "credentials"
    written: dict[str, str] = {}
    with database.unit_of_work() as session:
        PlatformService(session).register(
            PlatformCreate(
                code="GD",
                name="Guangdong Carbon Inclusion Platform (test)",
                name_zh="广东碳普惠平台（测试）",
                region="CN-GD",
                kind=PlatformKind.PROVINCIAL,
                api_base_url=f"{settings.resolved_public_url}/sandbox/gd",
                demonstration=True,
                scopes=[],
            ),
            actor="test-seed",
        )
        clients = ClientService(session, settings)
        people = [
            ("gd", ClientKind.PLATFORM, "GD", None),
            ("operator-gd", ClientKind.OPERATOR, None, "GD"),
            ("admin-gd", ClientKind.ADMIN, None, None),
            ("admin-gd-2", ClientKind.ADMIN, None, None),
        ]
        for name, kind, platform, region in people:
            credentials = clients.create(
                kind=kind, name=name, client_id=name, platform=platform, region=region, actor="test-seed"
            )
            written[name] = credentials.to_json()
        password = Accounts(session).add("operator-gd", "GD")  # the GD operator's console account
        written["operator-gd.console"] = json.dumps(
            {"username": "operator-gd", "region": "GD", "password": password}
        )
        member = Ed25519Key.generate()
        root = make_envelope(
            {
                "committee_id": GD_COMMITTEE,
                "version": 1,
                "expires": (datetime.now(UTC) + timedelta(days=365)).replace(microsecond=0).isoformat(),
                "keys": {member.kid: member.public_jwk()},
                "roles": {
                    "root": {"keyids": [member.kid], "threshold": 1},
                    "rulesets": {"keyids": [member.kid], "threshold": 1},
                },
                "demonstration": True,
            }
        )
        standards = StandardsService(session)
        standards.install_root(sign_envelope(root, member), by="test-seed")
        standards.publish(sign_envelope(make_envelope(gd_ruleset_payload()), member), by="test-seed")
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    for name, text in written.items():
        replace_private_file(directory / f"{name}.json", text)
    return directory


def _settings(root: Path, name: str, url: str, origin: str) -> Settings:
    return Settings(data_dir=root / name, public_url=url, origin=origin, webhook_worker=False)


@contextmanager
def open_two_hubs(yrd_database: Database, gd_database: Database, root: Path) -> Iterator[TwoHubs]:
    """The two hubs (not yet peered), their apps running, on the given (migrated, empty) databases."""
    network = Network()
    with ExitStack() as stack:
        yrd_settings = _settings(root, "yrd", YRD_URL, YRD_ORIGIN)
        credentials = seed_demo(yrd_database, yrd_settings, with_issuances=False).credentials_dir
        with yrd_database.unit_of_work() as session:  # Jiangsu holds the Kunshan PV block (350 t)
            kunshan = Records(
                [example("project", "kunshan-pv-399kw")], [example("credit-block", "kunshan-pv-399kw")]
            )
            IngestService(session).ingest("JS", kunshan, actor="test-seed", source="test")
        gd_settings = _settings(root, "gd", GD_URL, GD_ORIGIN)
        gd_credentials = seed_gd(gd_database, gd_settings)
        hubs = []
        for name, settings, database, folder in (
            ("yrd", yrd_settings, yrd_database, credentials),
            ("gd", gd_settings, gd_database, gd_credentials),
        ):
            app = create_app(settings, database)
            app.state.peer_transport = network
            client = stack.enter_context(TestClient(app, base_url=settings.resolved_public_url))
            hub = Hub(name, settings, database, client, folder)
            stack.callback(hub.close)
            network.join(hub)
            hubs.append(hub)
        pair = TwoHubs(hubs[0], hubs[1], network)
        for hub in hubs:
            worker = PeerWorker(hub.database, hub.keystore, hub.settings, transport=network)
            pair.add_worker(worker.run_once)
        yield pair


def problem_of(response: httpx.Response) -> tuple[int, str | None]:
    """A response's status and check code."""
    try:
        body = response.json()
    except json.JSONDecodeError:
        body = {}
    return response.status_code, body.get("code") if isinstance(body, dict) else None
