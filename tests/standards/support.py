"""Shared helpers for the standards tests: committee keys, roots and signed envelopes."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from schemas.jwk import Ed25519Key
from standards.envelope import make_envelope, sign_envelope

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "schemas" / "examples"

# Generated once per test session: members 0..4 (a committee uses a subset of them).
KEYS: tuple[Ed25519Key, ...] = tuple(Ed25519Key.generate() for _ in range(5))
FUTURE = "2030-01-01T00:00:00+08:00"


def example(kind: str, name: str) -> dict[str, Any]:
    """A valid example instance of the exchange schema (a deep copy)."""
    path = EXAMPLES / kind / "valid" / f"{name}.json"
    return copy.deepcopy(json.loads(path.read_text("utf-8"))["instance"])


def root_payload(
    members: Sequence[int],
    *,
    threshold: int = 2,
    rulesets_threshold: int | None = None,
    version: int = 1,
    expires: str = FUTURE,
    committee: str = "yrd-committee",
) -> dict[str, Any]:
    """A committee root whose keys are ``KEYS[i]`` for i in ``members``."""
    keys = [KEYS[i] for i in members]
    kids = [key.kid for key in keys]
    return {
        "committee_id": committee,
        "version": version,
        "expires": expires,
        "keys": {key.kid: key.public_jwk() for key in keys},
        "roles": {
            "root": {"keyids": kids, "threshold": threshold},
            "rulesets": {
                "keyids": kids,
                "threshold": threshold if rulesets_threshold is None else rulesets_threshold,
            },
        },
        "demonstration": True,
    }


def signed(payload: dict[str, Any], signers: Iterable[int]) -> dict[str, Any]:
    """An envelope around ``payload`` signed by ``KEYS[i]`` for i in ``signers``, in order."""
    envelope = make_envelope(payload)
    for index in signers:
        envelope = sign_envelope(envelope, KEYS[index])
    return envelope


def kids(indexes: Iterable[int]) -> tuple[str, ...]:
    """The sorted kids of ``KEYS[i]``."""
    return tuple(sorted(KEYS[i].kid for i in indexes))
