"""Interop with an independent JOSE implementation (joserfc): each side verifies the other's JWS."""

from __future__ import annotations

import warnings

import pytest
from joserfc import jws
from joserfc.jwk import OKPKey

from schemas.canonical import canonicalize
from schemas.jwk import Ed25519Key, JWKSet
from schemas.jws import JWSError, sign_detached, sign_record, verify_compact, verify_detached

RECORD = {"block_id": "JS-B-1", "quantity": 350, "unit": "tCO2e", "note": "昆山 399 kW 屋顶光伏"}


@pytest.fixture
def ours() -> Ed25519Key:
    return Ed25519Key.generate()


@pytest.fixture
def theirs() -> OKPKey:
    return OKPKey.generate_key("Ed25519")


def _deserialize(token: str, key: OKPKey, payload: bytes | None = None) -> bytes:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # joserfc warns that "EdDSA" is deprecated by RFC 9864
        if payload is None:
            return jws.deserialize_compact(token, key, algorithms=["EdDSA", "Ed25519"]).payload
        return jws.deserialize_compact(token, key, payload=payload, algorithms=["Ed25519"]).payload


def test_joserfc_verifies_a_record_we_sign(ours: Ed25519Key) -> None:
    token = sign_record(RECORD, ours)
    public = OKPKey.import_key(ours.public_jwk())
    assert _deserialize(token, public) == canonicalize(RECORD)


def test_joserfc_verifies_our_detached_jws(ours: Ed25519Key) -> None:
    payload = canonicalize(RECORD)
    token = sign_detached(payload, ours)
    assert _deserialize(token, OKPKey.import_key(ours.public_jwk()), payload) == payload


def test_joserfc_thumbprint_is_our_kid(ours: Ed25519Key) -> None:
    assert OKPKey.import_key(ours.public_jwk()).thumbprint() == ours.kid


@pytest.mark.parametrize("alg", ["EdDSA", "Ed25519"])
def test_we_verify_what_joserfc_signs(theirs: OKPKey, alg: str) -> None:
    public = Ed25519Key.from_jwk(theirs.as_dict(private=False))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        token = jws.serialize_compact(
            {"alg": alg, "kid": theirs.thumbprint()}, canonicalize(RECORD), theirs, algorithms=[alg]
        )
    verified = verify_compact(token, JWKSet([public]))
    assert verified.json() == RECORD
    assert verified.kid == theirs.thumbprint()


def test_we_verify_a_detached_jws_joserfc_made_and_refuse_it_over_other_bytes(
    theirs: OKPKey,
) -> None:
    public = JWKSet([Ed25519Key.from_jwk(theirs.as_dict(private=False))])
    payload = canonicalize(RECORD)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        token = jws.serialize_compact(
            {"alg": "EdDSA", "kid": theirs.thumbprint()}, payload, theirs, algorithms=["EdDSA"]
        )
    detached = jws.detach_content(token)
    assert verify_detached(detached, payload, public).payload == payload
    with pytest.raises(JWSError) as raised:
        verify_detached(detached, payload.replace(b"350", b"351"), public)
    assert raised.value.code == "1011"
