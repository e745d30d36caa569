"""Checking a certificate's hub signatures offline: every hub listed signed the same canonical
certificate with a key of its JWK Set (as published at its ``/.well-known/jwks.json`` or
``GET /v1/hub``). No database, no network: for ``puhui certificates verify`` and auditors."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from schemas.jwk import JWKSet
from schemas.jws import JWSError, verify_record


@dataclass(frozen=True)
class SignatureCheck:
    hub: str
    role: str
    kid: str
    log_index: int


def verify_hub_signatures(
    certificate: Mapping[str, Any],
    signatures: Sequence[Mapping[str, Any]],
    keys: Mapping[str, JWKSet],
    *,
    required: Sequence[str] = (),
) -> list[SignatureCheck]:
    """Each signature verified over ``certificate`` with its hub's keys (``keys`` by origin);
    ``required``: origins that must have signed. Raises :class:`JWSError` (1011 bad signature,
    1012 unknown key or hub) naming the hub that fails."""
    checked = []
    for signature in signatures:
        hub = str(signature.get("hub"))
        if hub not in keys:
            raise JWSError("1012", f"no keys of {hub} were given")
        try:
            verified = verify_record(str(signature.get("jws")), keys[hub], record=dict(certificate))
        except JWSError as exc:
            raise JWSError(exc.code, f"{hub}: {exc.message}") from exc
        checked.append(
            SignatureCheck(hub, str(signature.get("role")), verified.kid, int(signature.get("log_index", -1)))
        )
    missing = sorted(set(required) - {check.hub for check in checked})
    if missing:
        raise JWSError("1011", f"not signed by {', '.join(missing)}")
    return checked
