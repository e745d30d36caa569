"""Onboarding and key rotation through the API."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from hub.app import create_app
from hub.client import AuthenticationFailed, PermissionDenied, PlatformClient, Refused
from schemas import validate
from schemas.jwk import Ed25519Key

GUANGDONG = {
    "code": "GD",
    "name": "Guangdong Carbon Inclusion (PHCER)",
    "name_zh": "广东碳普惠",
    "region": "CN-GD",
    "kind": "provincial",
    "api_base_url": "https://gd.example/api",
    "grams_per_point": 1,
}


def test_an_administrator_registers_a_platform(as_client) -> None:
    admin = as_client("admin-1")
    key = Ed25519Key.generate()
    created = admin.post("/v1/platforms", {**GUANGDONG, "jwks": {"keys": [key.public_jwk()]}})
    assert created["code"] == "GD"
    assert validate("platform", created) == []
    assert [p["code"] for p in as_client("js").get("/v1/platforms")].count("GD") == 1


@pytest.mark.parametrize(
    ("change", "status", "pointer"),
    [
        ({"region": "Guangdong"}, 422, "/region"),
        ({"grams_per_point": 0.5}, 422, "/grams_per_point"),
        ({"jwks": {"keys": [Ed25519Key.generate().private_jwk()]}}, 422, "/jwks/keys"),
        ({"code": "SH"}, 409, None),
    ],
    ids=["region", "fractional-points", "private-key", "duplicate"],
)
def test_bad_registrations_are_refused_and_change_nothing(as_client, change, status, pointer) -> None:
    admin = as_client("admin-1")
    with pytest.raises(Refused) as refused:
        admin.post("/v1/platforms", {**GUANGDONG, **change})
    assert refused.value.status == status
    if pointer:
        assert pointer in [error.get("pointer") for error in refused.value.errors]
    assert sorted(p["code"] for p in admin.get("/v1/platforms")) == [
        "AH",
        "CCER",
        "JS",
        "SH",
        "ZJ",
    ]


@pytest.mark.parametrize("who", ["js", "operator-sh", "committee-1"])
def test_only_an_administrator_registers_platforms(as_client, who) -> None:
    with pytest.raises(PermissionDenied):
        as_client(who).post("/v1/platforms", GUANGDONG)


def test_a_platform_may_not_rotate_another_platforms_keys(as_client) -> None:
    with pytest.raises(PermissionDenied):
        as_client("js").put("/v1/platforms/SH/jwks", {"keys": [Ed25519Key.generate().public_jwk()]})


def test_rotation_new_key_at_once_old_key_during_the_grace_period(
    client: TestClient, as_client, federation
) -> None:
    jiangsu = as_client("js")
    new_key = Ed25519Key.generate()
    jiangsu.put("/v1/platforms/JS/jwks", {"keys": [new_key.public_jwk()]})
    credentials = {**__import__("json").loads((federation / "js.json").read_text())}
    with PlatformClient.from_credentials(
        {**credentials, "private_jwk": new_key.private_jwk()}, transport=client._transport
    ) as rotated:
        assert rotated.get("/v1/platforms/JS")["jwks"]["keys"] == [new_key.public_jwk()]
    assert as_client("js").access_token()  # the old key is still honoured


def test_without_a_grace_period_the_old_key_stops_at_once(database, settings, federation) -> None:
    strict = settings.model_copy(update={"key_grace_period": 0})
    with TestClient(create_app(strict, database)) as test_client:
        jiangsu = PlatformClient.from_credentials(federation / "js.json", transport=test_client._transport)
        jiangsu.put("/v1/platforms/JS/jwks", {"keys": [Ed25519Key.generate().public_jwk()]})
        again = PlatformClient.from_credentials(federation / "js.json", transport=test_client._transport)
        with pytest.raises(AuthenticationFailed):
            again.access_token()
        jiangsu.close()
        again.close()


def test_a_stock_assertion_without_kid_works_while_two_keys_are_valid(
    client: TestClient, as_client, federation
) -> None:
    import json
    import time
    import uuid

    from joserfc import jwt
    from joserfc.jwk import OKPKey

    as_client("js").put("/v1/platforms/JS/jwks", {"keys": [Ed25519Key.generate().public_jwk()]})
    old = OKPKey.import_key(json.loads((federation / "js.json").read_text())["private_jwk"])
    now = int(time.time())
    claims = {"iss": "js", "sub": "js", "aud": "http://127.0.0.1:8000/oauth/token", "iat": now,
              "exp": now + 3600, "jti": uuid.uuid4().hex}  # fmt: skip
    assertion = jwt.encode({"alg": "EdDSA"}, claims, old, algorithms=["EdDSA"])
    response = client.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            "client_assertion": assertion,
        },
    )
    assert response.status_code == 200, response.text
