"""JWK thumbprints and JWS (compact, detached, over canonical records), with RFC 8037 vectors."""

from __future__ import annotations

import json

import pytest

from schemas.jwk import Ed25519Key, JWKError, JWKSet, b64url_decode, b64url_encode, thumbprint
from schemas.jws import (
    JWSError,
    sign_compact,
    sign_detached,
    sign_record,
    verify_compact,
    verify_detached,
    verify_record,
)

# RFC 8037 Appendix A.1 (key), A.3 (thumbprint), A.4 (signature)
RFC8037_KEY = {
    "kty": "OKP",
    "crv": "Ed25519",
    "d": "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A",
    "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
}
RFC8037_THUMBPRINT = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
RFC8037_JWS = (
    "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc."
    "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg"
)


@pytest.fixture
def key() -> Ed25519Key:
    return Ed25519Key.generate()


def test_rfc8037_thumbprint_and_kid() -> None:
    assert thumbprint(RFC8037_KEY) == RFC8037_THUMBPRINT
    assert Ed25519Key.from_jwk(RFC8037_KEY).kid == RFC8037_THUMBPRINT


def test_rfc8037_signature_vector() -> None:
    rfc_key = Ed25519Key.from_jwk(RFC8037_KEY)
    protected, payload, signature = RFC8037_JWS.split(".")
    assert b64url_encode(rfc_key.sign(f"{protected}.{payload}".encode())) == signature
    verified = verify_compact(RFC8037_JWS, rfc_key)  # no kid in the header: the one key given
    assert verified.payload == b"Example of Ed25519 signing"


def test_rfc8037_vector_needs_a_kid_to_select_from_a_jwk_set() -> None:
    with pytest.raises(JWSError) as raised:
        verify_compact(RFC8037_JWS, JWKSet([Ed25519Key.from_jwk(RFC8037_KEY)]))
    assert raised.value.code == "1012"


def test_a_jwk_whose_kid_is_not_its_thumbprint_is_refused() -> None:
    with pytest.raises(JWKError):
        Ed25519Key.from_jwk({**RFC8037_KEY, "kid": "my-key-1"})


def test_a_private_part_that_does_not_match_is_refused(key: Ed25519Key) -> None:
    with pytest.raises(JWKError):
        Ed25519Key.from_jwk({**RFC8037_KEY, "x": key.public_jwk()["x"]})


def test_public_jwk_never_carries_the_private_part(key: Ed25519Key) -> None:
    assert "d" not in key.public_jwk()
    assert all("d" not in jwk for jwk in JWKSet([key]).as_dict()["keys"])


def test_compact_round_trip_names_alg_and_kid(key: Ed25519Key) -> None:
    token = sign_compact(b"hello", key, typ="puhui+jws")
    verified = verify_compact(token, JWKSet([key]))
    assert verified.payload == b"hello"
    assert verified.header == {"alg": "Ed25519", "kid": key.kid, "typ": "puhui+jws"}  # RFC 9864


def test_detached_round_trip(key: Ed25519Key) -> None:
    token = sign_detached(b"payload travels apart", key)
    assert token.split(".")[1] == ""
    assert verify_detached(token, b"payload travels apart", JWKSet([key])).kid == key.kid
    with pytest.raises(JWSError) as raised:
        verify_detached(token, b"payload travels apart!", JWKSet([key]))
    assert raised.value.code == "1011"


def test_records_are_signed_over_canonical_bytes(key: Ed25519Key) -> None:
    record = {"b": [1, 2], "a": "碳普惠"}
    token = sign_record(record, key, detached=True)
    reordered = {"a": "碳普惠", "b": [1, 2]}
    assert verify_record(token, JWKSet([key]), reordered).kid == key.kid
    attached = sign_record(record, key)
    assert verify_record(attached, JWKSet([key])).json() == record


def _tamper(token: str, part: int, value: str) -> str:
    parts = token.split(".")
    parts[part] = value
    return ".".join(parts)


@pytest.mark.parametrize(
    ("mutate", "code"),
    [
        (lambda t, k: _tamper(t, 1, b64url_encode(b'{"a":2}')), "1011"),
        (lambda t, k: _tamper(t, 2, b64url_encode(b"\0" * 64)), "1011"),
        (lambda t, k: _tamper(t, 0, b64url_encode(b'{"alg":"EdDSA","kid":"nobody"}')), "1012"),
        (lambda t, k: _tamper(t, 0, b64url_encode(b'{"alg":"none","kid":"x"}')), "1013"),
        (lambda t, k: _tamper(t, 0, b64url_encode(b'{"alg":"HS256","kid":"x"}')), "1013"),
        (
            lambda t, k: _tamper(
                t, 0, b64url_encode(json.dumps({"alg": "EdDSA", "kid": k, "crit": ["x"]}).encode())
            ),
            "1015",
        ),
        (lambda t, k: _tamper(t, 0, "bm90IGpzb24"), "1010"),
        (lambda t, k: t + ".extra", "1010"),
        (lambda t, k: "a.b", "1010"),
        (lambda t, k: t.replace(".", ".!", 1), "1010"),
    ],
    ids=[
        "payload-changed", "signature-changed", "unknown-kid", "alg-none", "alg-hs256",
        "crit", "header-not-json", "four-parts", "two-parts", "bad-characters",
    ],
)  # fmt: skip
def test_every_way_a_jws_fails_has_its_check_code(key: Ed25519Key, mutate, code: str) -> None:
    token = sign_compact(b'{"a":1}', key)
    with pytest.raises(JWSError) as raised:
        verify_compact(mutate(token, key.kid), JWKSet([key]))
    assert raised.value.code == code


def test_a_signed_payload_that_is_not_canonical_is_refused_as_a_record(key: Ed25519Key) -> None:
    token = sign_compact(b'{"b": 1, "a": 2}', key)
    assert verify_compact(token, key).payload == b'{"b": 1, "a": 2}'
    with pytest.raises(JWSError) as raised:
        verify_record(token, key)
    assert raised.value.code == "1014"


def test_alg_ed25519_rfc9864_name_is_accepted(key: Ed25519Key) -> None:
    protected = b64url_encode(json.dumps({"alg": "Ed25519", "kid": key.kid}).encode())
    payload = b64url_encode(b"x")
    signature = b64url_encode(key.sign(f"{protected}.{payload}".encode()))
    assert verify_compact(f"{protected}.{payload}.{signature}", JWKSet([key])).payload == b"x"


def test_jwks_skips_keys_of_other_types() -> None:
    jwks = {
        "keys": [
            {"kty": "RSA", "n": "abc", "e": "AQAB"},
            {k: v for k, v in RFC8037_KEY.items() if k != "d"},
        ]
    }
    assert [k.kid for k in JWKSet.from_dict(jwks)] == [RFC8037_THUMBPRINT]


def test_b64url_refuses_padding() -> None:
    with pytest.raises(ValueError, match="unpadded"):
        b64url_decode("YQ==")
