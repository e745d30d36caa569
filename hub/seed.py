"""The demo federation: five demonstration platforms (SH, JS, ZJ, AH, CCER) and their OAuth
clients, a Shanghai and a Jiangsu operator, one standards committee member and two federation
administrators (onboarding, suspension, and key overrides, which need both); the committee's root of
trust and the default YRD rulesets (``hub.seed_standards``).

Each client's credentials (``client_id``, ``token_endpoint``, private JWK, and in demo mode a
``client_secret`` for ``client_secret_basic``) are written once, mode 0600, to
``$PUHUI_DATA_DIR/demo/credentials/<name>.json`` with names ``sh``, ``js``, ``zj``, ``ah``, ``ccer``,
``operator-sh``, ``operator-js``, ``committee-1``, ``admin-1``, ``admin-2``. A platform client's
key is its platform's key.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from sqlmodel import Session

from adapters.registry import available
from hub.auth.scopes import ClientKind
from hub.auth.service import ClientService
from hub.console.accounts import Accounts
from hub.database import Database
from hub.keystore import KeyStore, replace_private_file
from hub.platforms.models import PlatformCreate
from hub.platforms.service import PlatformService
from hub.recognition.service import RecognitionService
from hub.registry.federation_key import pseudonymizer
from hub.registry.ingest import IngestService, Records
from hub.registry.models import SyncCursor
from hub.seed_standards import seed_committee
from hub.settings import Settings
from schemas.jwk import Ed25519Key

DEMO_PEOPLE = [
    ("operator-sh", ClientKind.OPERATOR, "Shanghai operator (碳普惠管理及运营中心, demo)", "SH"),
    ("operator-js", ClientKind.OPERATOR, "Jiangsu operator (demo)", "JS"),
    ("committee-1", ClientKind.COMMITTEE, "YRD standards committee member 1 (demo)", None),
    ("admin-1", ClientKind.ADMIN, "Federation administrator 1 (demo)", None),
    (
        "admin-2",
        ClientKind.ADMIN,
        "Federation administrator 2 (demo): approves admin-1's key overrides",
        None,
    ),
]


@dataclass(frozen=True)
class SeedResult:
    seeded: bool
    platforms: list[str]
    credentials_dir: Path
    ingested: dict[str, int] = field(default_factory=dict)
    console_passwords: dict[str, str] = field(default_factory=dict)


def demo_federation() -> dict[str, Any]:
    text = resources.files("hub").joinpath("demo/federation.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def seed_issuances(session: Session, settings: Settings) -> dict[str, int]:
    """Each demo platform's good fixtures, parsed on its behalf (pseudonymized with the federation
    key) and ingested. They are also the pages its sandbox serves, so the pull cursor is set past
    them: `puhui sync CODE` then fetches only what is added to the sandbox afterwards."""
    key = pseudonymizer(settings.resolved_federation_key_file)
    stored: dict[str, int] = {}
    for code, adapter in available().items():
        pages = [fixture for fixture in adapter.fixtures() if fixture.good]
        session.add(SyncCursor(platform=code, cursor=str(len(pages))))
        for fixture in pages:
            result = adapter.parse(fixture.read(), content_type=fixture.content_type, pseudonymizer=key)
            records = Records(result.projects, result.blocks, result.batches)
            IngestService(session).ingest(
                code, records, actor="demo-seed", source=f"demo:{code}", schema_checked=True
            )
            stored[code] = stored.get(code, 0) + len(result)
    return stored


DEMO_RECOGNITIONS = (
    ("kunshan-pv-for-shanghai-ets.json", "JS", 20000),
    ("anhui-forest-for-shanghai-neutralization.json", "AH", None),
)
DEMO_OPERATORS = (("operator-sh", "SH"), ("operator-js", "JS"))


def seed_recognition(session: Session, settings: Settings, keystore: KeyStore) -> list[str]:
    """The demo's pending recognitions for operator-sh (schemas/examples/recognition-request): 120 t
    of the Kunshan PV credits for a Shanghai covered entity's 2025 ETS compliance, and 40 t of the
    Anhui afforestation credits for the voluntary neutralization of a Shanghai event."""
    service = RecognitionService(session, settings, keystore)
    submitted = []
    for name, sender, verified_emissions in DEMO_RECOGNITIONS:
        text = resources.files("schemas").joinpath(f"examples/recognition-request/valid/{name}")
        request = json.loads(text.read_text("utf-8"))["instance"]
        submitted.append(
            service.submit(
                request, sender=sender, actor=sender.lower(), verified_emissions=verified_emissions
            ).id
        )
    return submitted


def seed_demo(database: Database, settings: Settings, *, with_issuances: bool = True) -> SeedResult:
    """Register the demo federation when the database holds no platform yet."""
    credentials_dir = settings.data_dir / "demo" / "credentials"
    written: dict[str, str] = {}
    console_passwords: dict[str, str] = {}
    with database.unit_of_work() as session:
        platforms = PlatformService(session)
        if not platforms.is_empty():
            return SeedResult(False, [p.code for p in platforms.list()], credentials_dir)
        clients = ClientService(session, settings)
        codes = []
        for entry in demo_federation()["platforms"]:
            code = entry["code"]
            platforms.register(
                PlatformCreate(
                    code=code,
                    name=entry["name"],
                    name_zh=entry["name_zh"],
                    region=entry["region"],
                    kind=entry["kind"],
                    api_base_url=f"{settings.resolved_public_url}/sandbox/{code.lower()}",
                    grams_per_point=entry["grams_per_point"],
                    points_note=entry["points_note"],
                    demonstration=True,
                    scopes=[],
                ),
                actor="demo-seed",
            )
            credentials = clients.create(
                kind=ClientKind.PLATFORM,
                name=entry["name"],
                client_id=code.lower(),
                platform=code,
                with_secret=settings.client_secret_basic_enabled,
                actor="demo-seed",
            )
            written[code.lower()] = credentials.to_json()
            codes.append(code)
        for name, kind, label, region in DEMO_PEOPLE:
            credentials = clients.create(
                kind=kind,
                name=label,
                client_id=name,
                region=region,
                with_secret=settings.client_secret_basic_enabled,
                actor="demo-seed",
            )
            written[name] = credentials.to_json()
            if kind is ClientKind.COMMITTEE and credentials.private_jwk is not None:
                written.update(seed_committee(session, Ed25519Key.from_jwk(credentials.private_jwk)))
        for username, region in DEMO_OPERATORS:
            password = console_passwords[username] = Accounts(session).add(username, region)
            written[f"{username}.console"] = json.dumps(
                {
                    "username": username,
                    "region": region,
                    "password": password,
                    "console": f"{settings.resolved_public_url}/console",
                },
                indent=2,
            )
        ingested = seed_issuances(session, settings) if with_issuances else {}
        if with_issuances:
            seed_recognition(session, settings, KeyStore(settings.resolved_keys_dir))
    credentials_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    for name, text in written.items():
        replace_private_file(credentials_dir / f"{name}.json", text)
    return SeedResult(True, codes, credentials_dir, ingested, console_passwords)
