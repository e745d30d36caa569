"""The demo federation: the five demonstration platforms SH, JS, ZJ, AH and CCER.

Each demo platform gets an Ed25519 key pair; the public key goes into its registered JWKS and the
private JWK is written (mode 0600) to ``$PUHUI_DATA_DIR/demo/credentials/<CODE>.jwk.json``, so that
its stand-in client can sign requests and envelopes offline (``puhui envelope sign --key …``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from hub.database import Database
from hub.keystore import write_private_file
from hub.platforms.models import PlatformCreate
from hub.platforms.service import PlatformService
from schemas.jwk import Ed25519Key

DEMO_SCOPES = [
    "blocks:read",
    "blocks:write",
    "recognitions:request",
    "transfers:write",
    "events:read",
    "reconciliation:write",
]


@dataclass(frozen=True)
class SeedResult:
    seeded: bool
    platforms: list[str]
    credentials_dir: Path


def demo_federation() -> dict[str, Any]:
    text = resources.files("hub").joinpath("demo/federation.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def _platform_key(credentials: Path, code: str) -> Ed25519Key:
    path = credentials / f"{code}.jwk.json"
    if path.exists():
        return Ed25519Key.from_jwk(json.loads(path.read_text("utf-8")))
    key = Ed25519Key.generate()
    write_private_file(path, json.dumps(key.private_jwk(), indent=2))
    return key


def seed_demo(database: Database, data_dir: Path, public_url: str) -> SeedResult:
    """Register the demo platforms when the database holds no platform yet."""
    credentials = data_dir / "demo" / "credentials"
    with database.unit_of_work() as session:
        service = PlatformService(session)
        if not service.is_empty():
            return SeedResult(False, [p.code for p in service.list()], credentials)
        credentials.mkdir(parents=True, exist_ok=True, mode=0o700)
        codes = []
        for entry in demo_federation()["platforms"]:
            key = _platform_key(credentials, entry["code"])
            service.register(
                PlatformCreate(
                    code=entry["code"],
                    name=entry["name"],
                    name_zh=entry["name_zh"],
                    region=entry["region"],
                    kind=entry["kind"],
                    api_base_url=f"{public_url}/sandbox/{entry['code'].lower()}",
                    grams_per_point=entry["grams_per_point"],
                    points_note=entry["points_note"],
                    demonstration=True,
                    jwks={"keys": [key.public_jwk()]},
                    scopes=list(DEMO_SCOPES),
                )
            )
            codes.append(entry["code"])
    return SeedResult(True, codes, credentials)
