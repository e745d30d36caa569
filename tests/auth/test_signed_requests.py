"""Signed state-changing requests: each refusal has its own 1xxx code and changes nothing."""

from __future__ import annotations

import base64
import json
import time
import uuid

import pytest
from fastapi.testclient import TestClient

from hub.client import PlatformClient
from schemas.jwk import Ed25519Key
from schemas.jws import sign_detached

PATH = "/v1/platforms/JS/jwks"


def _new_jwks() -> dict:
    return {"keys": [Ed25519Key.generate().public_jwk()]}


def _send(client: TestClient, platform: PlatformClient, body: bytes, signature: str | None):
    headers = {
        "Authorization": f"Bearer {platform.access_token()}",
        "Content-Type": "application/json",
    }
    if signature is not None:
        headers["Puhui-Signature"] = signature
    return client.put(PATH, content=body, headers=headers)


def _sign(key: Ed25519Key, body: bytes, **header: object) -> str:
    fields = {"jti": uuid.uuid4().hex, "iat": int(time.time()), "htm": "PUT", "htu": PATH, **header}
    return sign_detached(body, key, headers=fields)


def _keys_of_js(platform: PlatformClient) -> list[str]:
    return [key["kid"] for key in platform.get("/v1/platforms/JS")["jwks"]["keys"]]


def test_a_signed_request_is_accepted_and_its_bytes_kept_as_received(client: TestClient, as_client) -> None:
    jiangsu = as_client("js")
    jwks = _new_jwks()
    body = json.dumps(jwks, indent=1).encode()  # any bytes: the signature covers them exactly
    response = _send(client, jiangsu, body, jiangsu.signature("PUT", PATH, body))
    assert response.status_code == 200, response.text
    receipt_id = response.headers["puhui-receipt"]
    receipt = jiangsu.get(f"/v1/receipts/{receipt_id}")
    assert receipt["body_base64"] and __import__("base64").b64decode(receipt["body_base64"]) == body
    assert receipt["kid"] == jiangsu.key.kid
    assert receipt["method"] == "PUT"
    assert receipt["path"] == PATH
    assert [r["id"] for r in jiangsu.get("/v1/receipts")] == [receipt_id]


@pytest.mark.parametrize(
    ("case", "status", "code"),
    [
        ("missing", 401, "1016"),
        ("unknown-key", 401, "1012"),
        ("bad-signature", 401, "1011"),
        ("malformed", 401, "1010"),
        ("clock-skew", 401, "1018"),
        ("other-path", 401, "1019"),
        ("other-method", 401, "1019"),
        ("no-jti", 401, "1010"),
    ],
)
def test_refused_signatures(client: TestClient, as_client, case: str, status: int, code: str) -> None:
    jiangsu = as_client("js")
    before = _keys_of_js(jiangsu)
    body = json.dumps(_new_jwks()).encode()
    signature = {
        "missing": None,
        "unknown-key": _sign(Ed25519Key.generate(), body),
        "bad-signature": _sign(jiangsu.key, body + b" "),
        "malformed": "not-a-jws",
        "clock-skew": _sign(jiangsu.key, body, iat=int(time.time()) - 600),
        "other-path": _sign(jiangsu.key, body, htu="/v1/platforms/SH/jwks"),
        "other-method": _sign(jiangsu.key, body, htm="POST"),
        "no-jti": sign_detached(
            body, jiangsu.key, headers={"iat": int(time.time()), "htm": "PUT", "htu": PATH}
        ),
    }[case]
    response = _send(client, jiangsu, body, signature)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == code
    assert _keys_of_js(jiangsu) == before
    assert jiangsu.get("/v1/receipts") == []


def _under_the_same_jti(platform, signature: str, body: bytes) -> str:
    """``body`` signed with the key, jti and time of ``signature``: a replay of its jti."""
    encoded = signature.split(".", 1)[0]
    protected = json.loads(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)))
    fields = {name: protected[name] for name in ("jti", "iat", "htm", "htu")}
    return sign_detached(body, platform.key, headers=fields)


def test_a_request_sent_again_is_answered_once_and_a_replayed_jti_refused(
    client: TestClient, as_client
) -> None:
    jiangsu = as_client("js")
    body = json.dumps(_new_jwks()).encode()
    signature = jiangsu.signature("PUT", PATH, body)
    first = _send(client, jiangsu, body, signature)
    assert first.status_code == 200
    after_first = _keys_of_js(jiangsu)
    resent = _send(client, jiangsu, body, signature)  # the identical request: a retry
    assert resent.status_code == 200 and resent.json() == first.json()
    assert resent.headers["Idempotent-Replayed"] == "true"
    assert resent.headers["puhui-receipt"] == first.headers["puhui-receipt"]
    other = json.dumps(_new_jwks()).encode()
    replay = _send(client, jiangsu, other, _under_the_same_jti(jiangsu, signature, other))
    assert replay.status_code == 409
    assert replay.headers["content-type"] == "application/problem+json"
    assert replay.json()["code"] == "1017"
    assert _keys_of_js(jiangsu) == after_first
    assert len(jiangsu.get("/v1/receipts")) == 1


def test_replayed_and_unknown_key_refusals_have_distinct_codes(client: TestClient, as_client) -> None:
    jiangsu = as_client("js")
    body = json.dumps(_new_jwks()).encode()
    signature = jiangsu.signature("PUT", PATH, body)
    _send(client, jiangsu, body, signature)
    other = json.dumps(_new_jwks()).encode()
    replayed = _send(client, jiangsu, other, _under_the_same_jti(jiangsu, signature, other)).json()["code"]
    unknown = _send(client, jiangsu, body, _sign(Ed25519Key.generate(), body)).json()["code"]
    assert replayed != unknown
    assert {replayed, unknown} == {"1017", "1012"}


def test_another_platform_cannot_read_a_receipt(as_client) -> None:
    jiangsu, shanghai = as_client("js"), as_client("sh")
    response = jiangsu.request("PUT", PATH, json_body=_new_jwks())
    receipt_id = response.headers["puhui-receipt"]
    from hub.client import NotFound

    with pytest.raises(NotFound):
        shanghai.get(f"/v1/receipts/{receipt_id}")
    assert shanghai.get("/v1/receipts") == []
    assert as_client("operator-js").get(f"/v1/receipts/{receipt_id}")["platform"] == "JS"
    with pytest.raises(NotFound):
        as_client("operator-sh").get(f"/v1/receipts/{receipt_id}")
