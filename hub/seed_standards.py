"""The demo's standards committee: three members, a root needing 2 of 3, and the default YRD
ruleset published twice (version 1, then version 2 with readable changes), each signed by 2 of 3.

Member 1 is the ``committee-1`` OAuth client (its key signs); members 2 and 3 exist only as keys,
written to ``$PUHUI_DATA_DIR/demo/credentials/committee-{2,3}.json`` so that the demo can sign
offline with ``puhui standards sign``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import Session

from hub.standards.service import StandardsService
from schemas.jwk import Ed25519Key
from standards import default_ruleset_payload, make_envelope, sign_envelope

COMMITTEE = "yrd-committee"
SIGNERS_BY_VERSION = {1: (0, 1), 2: (1, 2)}


def root_payload(members: list[Ed25519Key], *, version: int = 1, threshold: int = 2) -> dict[str, Any]:
    kids = [key.kid for key in members]
    expires = (datetime.now(UTC) + timedelta(days=365)).replace(microsecond=0)
    return {
        "committee_id": COMMITTEE,
        "version": version,
        "expires": expires.isoformat(),
        "keys": {key.kid: key.public_jwk() for key in members},
        "roles": {
            "root": {"keyids": kids, "threshold": threshold},
            "rulesets": {"keyids": kids, "threshold": threshold},
        },
        "demonstration": True,
    }


def seed_committee(session: Session, first_member: Ed25519Key) -> dict[str, str]:
    """Install the demo committee's root and publish the default rulesets; the credentials files
    (name -> JSON text) of the members who are not OAuth clients."""
    members = [first_member, Ed25519Key.generate(), Ed25519Key.generate()]
    service = StandardsService(session)
    root = make_envelope(root_payload(members))
    for member in members:
        root = sign_envelope(root, member)
    service.install_root(root, by="demo-seed")
    for version, signers in SIGNERS_BY_VERSION.items():
        envelope = make_envelope(default_ruleset_payload(version))
        for index in signers:
            envelope = sign_envelope(envelope, members[index])
        service.publish(envelope, by="committee-1")
    return {
        f"committee-{number}": json.dumps(
            {"name": f"committee-{number}", "committee": COMMITTEE, "private_jwk": key.private_jwk()},
            indent=2,
        )
        for number, key in ((2, members[1]), (3, members[2]))
    }
