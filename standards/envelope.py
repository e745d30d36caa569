"""Signed envelopes: ``{"signed": <payload>, "signatures": [{"kid": ..., "jws": ...}]}``.

As in TUF, the envelope keeps the payload apart from its signatures. Each signature is a detached
compact JWS (``header..signature``, EdDSA/Ed25519, ``kid`` = RFC 7638 thumbprint) over the RFC 8785
canonical bytes of the payload, so members sign the same file offline one after another and the
order or number of signatures never changes the signed bytes.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from schemas.canonical import CanonicalizationError, canonicalize
from schemas.jwk import Ed25519Key
from schemas.jws import sign_detached
from schemas.validation import Issue, pointer
from standards.errors import EnvelopeError

DETACHED_JWS = re.compile(r"^[A-Za-z0-9_-]+\.\.[A-Za-z0-9_-]+$")


@dataclass(frozen=True, slots=True)
class Signature:
    """One entry of ``signatures``: the signer's kid and its detached JWS."""

    kid: str
    jws: str

    def as_dict(self) -> dict[str, str]:
        """The exchange form."""
        return {"kid": self.kid, "jws": self.jws}


@dataclass(frozen=True, slots=True)
class Digest:
    """SHA-256 of a document's canonical bytes, in the exchange's ``digest`` form."""

    value: str
    alg: str = "sha-256"

    def as_dict(self) -> dict[str, str]:
        """The exchange form ``{"alg": "sha-256", "value": <hex>}``."""
        return {"alg": self.alg, "value": self.value}


def canonical_payload(payload: Any) -> bytes:
    """The canonical bytes that signatures cover; 1014 when the payload has no canonical form."""
    try:
        return canonicalize(payload)
    except CanonicalizationError as exc:
        raise EnvelopeError("1014", f"the signed payload has no canonical form: {exc}") from exc


def payload_digest(payload: Any) -> Digest:
    """SHA-256 over the canonical bytes of ``payload``."""
    return Digest(hashlib.sha256(canonical_payload(payload)).hexdigest())


def make_envelope(payload: Mapping[str, Any]) -> dict[str, Any]:
    """An unsigned envelope around ``payload`` (a copy; the payload must have a canonical form)."""
    canonical_payload(payload)
    return {"signed": dict(payload), "signatures": []}


def sign_envelope(envelope: Mapping[str, Any], key: Ed25519Key) -> dict[str, Any]:
    """A new envelope with one more signature, by ``key``, over the canonical payload.

    A key that already signed is not added twice: its earlier signature is replaced.
    """
    payload, signatures = parse_envelope(envelope)
    jws = sign_detached(canonical_payload(payload), key)
    kept = [sig.as_dict() for sig in signatures if sig.kid != key.kid]
    return {"signed": payload, "signatures": [*kept, {"kid": key.kid, "jws": jws}]}


def parse_envelope(envelope: Any) -> tuple[dict[str, Any], tuple[Signature, ...]]:
    """The payload and signatures of an envelope; :class:`EnvelopeError` (1020) on a bad shape."""
    if not isinstance(envelope, Mapping):
        raise EnvelopeError("1020", "a signed envelope is a JSON object")
    issues = [
        Issue(pointer([name]), "1020", f"'{name}' is not allowed in an envelope")
        for name in envelope
        if name not in ("signed", "signatures")
    ]
    payload = envelope.get("signed")
    if not isinstance(payload, Mapping):
        issues.append(Issue("/signed", "1020", "'signed' must be the payload object"))
    entries = envelope.get("signatures")
    signatures: list[Signature] = []
    if not isinstance(entries, list):
        issues.append(Issue("/signatures", "1020", "'signatures' must be an array"))
        entries = []
    for index, entry in enumerate(entries):
        where: list[str | int] = ["signatures", index]
        if not isinstance(entry, Mapping) or set(entry) != {"kid", "jws"}:
            issues.append(Issue(pointer(where), "1020", "a signature is {kid, jws} exactly"))
            continue
        kid, jws = entry["kid"], entry["jws"]
        if not isinstance(kid, str) or not kid:
            issues.append(Issue(pointer([*where, "kid"]), "1020", "kid must be a string"))
        elif not isinstance(jws, str) or not DETACHED_JWS.match(jws):
            issues.append(Issue(pointer([*where, "jws"]), "1020", "jws must be a detached compact JWS"))
        else:
            signatures.append(Signature(kid, jws))
    if issues or not isinstance(payload, Mapping):
        raise EnvelopeError("1020", "the signed envelope is malformed", issues)
    return dict(payload), tuple(signatures)
