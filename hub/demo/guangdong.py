"""The Guangdong hub of the demo federation of hubs (``puhui demo federation``; the federation
tests' second hub): platform GD (Guangdong 碳普惠, PHCER — 粤环发〔2022〕4号, FACTS.md), its
operator (with a console account), two federation administrators and a one-member standards
committee whose ruleset recognizes Jiangsu distributed-PV credits for use in Guangdong.
DEMONSTRATION DATA: not the Guangdong platform's endpoints, keys or official rules."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

from hub.auth.scopes import ClientKind
from hub.auth.service import ClientService
from hub.console.accounts import Accounts
from hub.database import Database
from hub.keystore import replace_private_file
from hub.platforms.models import PlatformCreate, PlatformKind
from hub.platforms.service import PlatformService
from hub.settings import Settings
from hub.standards.service import StandardsService
from schemas.jwk import Ed25519Key
from standards import make_envelope, sign_envelope

GD_COMMITTEE = "gd-committee"


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
    """Seed the GD hub (an empty database): platform GD, clients ``gd``, ``operator-gd`` (with a
    console account: its password in ``operator-gd.console.json``), ``admin-gd``, ``admin-gd-2``,
    and a one-member committee that published ``gd_ruleset_payload``; the credentials directory."""
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


def recognition_for_guangdong(request_id: str, start: int, end: int) -> dict[str, Any]:
    """A recognition request: serials ``start``–``end`` of the Kunshan PV credits (JS, YRD hub) for
    the voluntary neutralization of a Guangdong organisation (GD, served by the GD hub)."""
    text = resources.files("schemas").joinpath(
        "examples/recognition-request/valid/kunshan-pv-for-shanghai-ets.json"
    )
    request: dict[str, Any] = json.loads(text.read_text("utf-8"))["instance"]
    request.pop("compliance", None)
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
