"""Ed25519 keys as JSON Web Keys (RFC 7517, RFC 8037) with RFC 7638 thumbprints as key ids."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat


class JWKError(ValueError):
    """A JWK that is not a usable Ed25519 key."""


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    if not isinstance(text, str) or "=" in text:
        raise ValueError("not unpadded base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def thumbprint(jwk: Mapping[str, Any]) -> str:
    """RFC 7638 SHA-256 thumbprint of an OKP public key, base64url without padding."""
    if jwk.get("kty") != "OKP":
        raise JWKError(f"unsupported kty {jwk.get('kty')!r}: only OKP (Ed25519) keys are used")
    required = {"crv": jwk.get("crv"), "kty": "OKP", "x": jwk.get("x")}
    if not all(isinstance(value, str) for value in required.values()):
        raise JWKError("an OKP key needs string members crv and x")
    members = json.dumps(required, separators=(",", ":"), sort_keys=True).encode("utf-8")
    return b64url_encode(hashlib.sha256(members).digest())


@dataclass(frozen=True)
class Ed25519Key:
    """An Ed25519 key pair (or a public key alone) with its ``kid`` = RFC 7638 thumbprint."""

    public: Ed25519PublicKey
    private: Ed25519PrivateKey | None = field(default=None, repr=False)
    kid: str = ""

    def __post_init__(self) -> None:
        if not self.kid:
            object.__setattr__(self, "kid", thumbprint(self.public_jwk(with_kid=False)))

    @classmethod
    def generate(cls) -> Ed25519Key:
        private = Ed25519PrivateKey.generate()
        return cls(public=private.public_key(), private=private)

    @classmethod
    def from_jwk(cls, jwk: Mapping[str, Any]) -> Ed25519Key:
        """A key from a JWK; a private JWK (with ``d``) yields a key that can sign."""
        if jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519":
            raise JWKError("not an OKP/Ed25519 JWK")
        try:
            x = b64url_decode(jwk["x"])
            public = Ed25519PublicKey.from_public_bytes(x)
            private = None
            if "d" in jwk:
                private = Ed25519PrivateKey.from_private_bytes(b64url_decode(jwk["d"]))
                if private.public_key().public_bytes_raw() != x:
                    raise JWKError("private key d does not match public key x")
        except (KeyError, ValueError, TypeError) as exc:
            if isinstance(exc, JWKError):
                raise
            raise JWKError(f"malformed Ed25519 JWK: {exc}") from exc
        key = cls(public=public, private=private)
        stated = jwk.get("kid")
        if stated is not None and stated != key.kid:
            raise JWKError(f"kid {stated!r} is not the key's RFC 7638 thumbprint {key.kid!r}")
        return key

    @property
    def can_sign(self) -> bool:
        return self.private is not None

    def public_jwk(self, *, with_kid: bool = True) -> dict[str, str]:
        raw = self.public.public_bytes(Encoding.Raw, PublicFormat.Raw)
        jwk = {"kty": "OKP", "crv": "Ed25519", "x": b64url_encode(raw)}
        if with_kid:
            jwk.update({"kid": self.kid, "use": "sig"})
        return jwk

    def private_jwk(self) -> dict[str, str]:
        if self.private is None:
            raise JWKError("this key has no private part")
        return {**self.public_jwk(), "d": b64url_encode(self.private.private_bytes_raw())}

    def sign(self, data: bytes) -> bytes:
        if self.private is None:
            raise JWKError(f"key {self.kid} has no private part and cannot sign")
        return self.private.sign(data)

    def verify(self, signature: bytes, data: bytes) -> bool:
        try:
            self.public.verify(signature, data)
        except InvalidSignature:
            return False
        return True


class JWKSet:
    """A JWK Set (RFC 7517 §5) of Ed25519 public keys, looked up by ``kid``."""

    def __init__(self, keys: Iterable[Ed25519Key] = ()) -> None:
        self._keys: dict[str, Ed25519Key] = {}
        for key in keys:
            self._keys[key.kid] = key

    @classmethod
    def from_dict(cls, jwks: Mapping[str, Any]) -> JWKSet:
        """Parse a JWKS document; keys other than OKP/Ed25519 are skipped, as RFC 7517 allows."""
        entries = jwks.get("keys")
        if not isinstance(entries, list):
            raise JWKError("a JWK Set needs a 'keys' array")
        keys = [
            Ed25519Key.from_jwk(entry)
            for entry in entries
            if isinstance(entry, Mapping) and entry.get("kty") == "OKP" and entry.get("crv") == "Ed25519"
        ]
        return cls(keys)

    def get(self, kid: str) -> Ed25519Key | None:
        return self._keys.get(kid)

    def __iter__(self) -> Iterator[Ed25519Key]:
        return iter(self._keys.values())

    def __len__(self) -> int:
        return len(self._keys)

    def as_dict(self) -> dict[str, list[dict[str, str]]]:
        return {"keys": [key.public_jwk() for key in self._keys.values()]}
