"""JSON Web Signatures (RFC 7515) with EdDSA over Ed25519 (RFC 8037), compact and detached forms.

Records are signed over their RFC 8785 canonical bytes. A detached JWS (RFC 7515 Appendix F) is
``header..signature``: the payload travels separately (the record itself) and is canonicalized by
the verifier. The protected header always carries ``alg`` and ``kid`` (the RFC 7638 thumbprint of
the signing key); verifiers accept ``alg`` ``EdDSA`` and its RFC 9864 name ``Ed25519``, select the
key from a JWK Set by ``kid``, and refuse ``crit`` and unencoded (``b64: false``) payloads.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from schemas.canonical import CanonicalizationError, canonicalize, is_canonical
from schemas.jwk import Ed25519Key, JWKSet, b64url_decode, b64url_encode

ACCEPTED_ALGORITHMS = frozenset({"EdDSA", "Ed25519"})
SIGNING_ALGORITHM = "Ed25519"  # RFC 9864's fully specified name; "EdDSA" is still accepted
_B64URL = re.compile(r"^[A-Za-z0-9_-]*$")


class JWSError(ValueError):
    """A JWS that does not verify; ``code`` is the check code (1xxx)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class Verified:
    """A JWS that verified: its protected header, the signed bytes and the key that signed."""

    header: dict[str, Any]
    payload: bytes
    key: Ed25519Key

    @property
    def kid(self) -> str:
        return self.key.kid

    def json(self) -> Any:
        return json.loads(self.payload)


def _header(key: Ed25519Key, typ: str | None, extra: Mapping[str, Any] | None) -> bytes:
    header: dict[str, Any] = dict(extra or {})
    header.update({"alg": SIGNING_ALGORITHM, "kid": key.kid})
    if typ is not None:
        header["typ"] = typ
    return canonicalize(header)


def _sign(
    payload: bytes, key: Ed25519Key, typ: str | None, extra: Mapping[str, Any] | None
) -> tuple[str, str, str]:
    protected = b64url_encode(_header(key, typ, extra))
    encoded = b64url_encode(payload)
    signature = key.sign(f"{protected}.{encoded}".encode("ascii"))
    return protected, encoded, b64url_encode(signature)


def sign_compact(
    payload: bytes,
    key: Ed25519Key,
    *,
    typ: str | None = None,
    headers: Mapping[str, Any] | None = None,
) -> str:
    """Compact serialization ``header.payload.signature`` over ``payload`` as given."""
    protected, encoded, signature = _sign(payload, key, typ, headers)
    return f"{protected}.{encoded}.{signature}"


def sign_detached(
    payload: bytes,
    key: Ed25519Key,
    *,
    typ: str | None = None,
    headers: Mapping[str, Any] | None = None,
) -> str:
    """Detached compact serialization ``header..signature`` (RFC 7515 Appendix F)."""
    protected, _, signature = _sign(payload, key, typ, headers)
    return f"{protected}..{signature}"


def _parse_header(protected: str) -> dict[str, Any]:
    try:
        header = json.loads(b64url_decode(protected))
    except (ValueError, UnicodeDecodeError) as exc:
        raise JWSError("1010", f"the protected header is not base64url JSON: {exc}") from exc
    if not isinstance(header, dict):
        raise JWSError("1010", "the protected header is not a JSON object")
    alg = header.get("alg")
    if alg not in ACCEPTED_ALGORITHMS:
        raise JWSError("1013", f"algorithm {alg!r} is not accepted; use EdDSA (Ed25519)")
    if "crit" in header or header.get("b64") is False:
        raise JWSError("1015", f"critical header parameters are not supported: {header.get('crit')}")
    if "kid" in header and not isinstance(header["kid"], str):
        raise JWSError("1010", "kid must be a string")
    return header


def _split(token: str) -> tuple[str, str, str]:
    if not isinstance(token, str):
        raise JWSError("1010", "a compact JWS is a string")
    parts = token.strip().split(".")
    if len(parts) != 3 or not all(_B64URL.match(part) for part in parts) or not parts[0]:
        raise JWSError("1010", "not a compact JWS (three base64url parts separated by '.')")
    return parts[0], parts[1], parts[2]


def _check(protected: str, encoded: str, signature: str, keys: JWKSet | Ed25519Key) -> Verified:
    header = _parse_header(protected)
    kid = header.get("kid")
    if isinstance(keys, JWKSet):
        if kid is None:
            raise JWSError("1012", "the protected header names no key (kid) to select from the JWK Set")
        key = keys.get(kid)
    else:  # one given key: kid may be absent (RFC 7515), but must not name another key
        key = keys if kid in (None, keys.kid) else None
    if key is None:
        raise JWSError("1012", f"key {kid!r} is not known")
    try:
        raw_signature = b64url_decode(signature)
        payload = b64url_decode(encoded)
    except ValueError as exc:
        raise JWSError("1010", f"bad base64url: {exc}") from exc
    if not key.verify(raw_signature, f"{protected}.{encoded}".encode("ascii")):
        raise JWSError("1011", f"the signature by key {key.kid} does not verify")
    return Verified(header=header, payload=payload, key=key)


def verify_compact(token: str, keys: JWKSet | Ed25519Key) -> Verified:
    """Verify an attached compact JWS; raises :class:`JWSError` with a check code."""
    protected, encoded, signature = _split(token)
    if not encoded:
        raise JWSError("1010", "the JWS is detached; verify it with its payload")
    return _check(protected, encoded, signature, keys)


def verify_detached(token: str, payload: bytes, keys: JWKSet | Ed25519Key) -> Verified:
    """Verify a detached compact JWS over ``payload`` (an attached one must carry that payload)."""
    protected, encoded, signature = _split(token)
    expected = b64url_encode(payload)
    if encoded and encoded != expected:
        raise JWSError("1011", "the JWS carries a payload other than the one given")
    return _check(protected, expected, signature, keys)


def sign_record(record: Any, key: Ed25519Key, *, typ: str | None = None, detached: bool = False) -> str:
    """Sign the canonical bytes of a JSON record."""
    payload = canonicalize(record)
    if detached:
        return sign_detached(payload, key, typ=typ)
    return sign_compact(payload, key, typ=typ)


def verify_record(token: str, keys: JWKSet | Ed25519Key, record: Any = None) -> Verified:
    """Verify a signed record.

    With ``record``, the JWS is checked over the record's canonical bytes (detached or attached).
    Without, the JWS must be attached and its payload must already be canonical JSON (1014).
    """
    if record is not None:
        try:
            payload = canonicalize(record)
        except CanonicalizationError as exc:
            raise JWSError("1014", f"the record has no canonical form: {exc}") from exc
        return verify_detached(token, payload, keys)
    verified = verify_compact(token, keys)
    if not is_canonical(verified.payload):
        raise JWSError("1014", "the signed payload is not RFC 8785 canonical JSON")
    return verified
