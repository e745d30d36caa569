"""The token endpoint: private_key_jwt (RFC 7523) and client_secret_basic, RFC 9068 access tokens."""

from __future__ import annotations

import base64
import json
import time
import uuid
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from joserfc import jwt
from joserfc.jwk import KeySet, OKPKey
from sqlmodel import select

from hub.app import create_app
from hub.auth.models import OAuthClient
from hub.seed import seed_demo

TOKEN = "http://127.0.0.1:8000/oauth/token"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def _credentials(federation: Path, name: str) -> dict:
    return json.loads((federation / f"{name}.json").read_text())


def _assertion(credentials: dict, *, alg: str = "EdDSA", **overrides: object) -> str:
    now = int(time.time())
    claims = {
        "iss": credentials["client_id"],
        "sub": credentials["client_id"],
        "aud": TOKEN,
        "iat": now,
        "exp": now + 300,
        "jti": uuid.uuid4().hex,
        **overrides,
    }
    key = OKPKey.import_key(credentials["private_jwk"])
    return jwt.encode({"alg": alg, "kid": key.kid}, claims, key, algorithms=[alg])


def _token(client: TestClient, assertion: str, **form: str):
    data = {
        "grant_type": "client_credentials",
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": assertion,
        **form,
    }
    return client.post("/oauth/token", data=data)


def test_metadata_names_the_endpoints_and_methods(client: TestClient) -> None:
    metadata = client.get("/.well-known/oauth-authorization-server").json()
    assert metadata["issuer"] == "http://127.0.0.1:8000"
    assert metadata["token_endpoint"] == TOKEN
    assert metadata["grant_types_supported"] == ["client_credentials"]
    assert metadata["token_endpoint_auth_methods_supported"] == ["private_key_jwt"]
    # the hub's own algorithm first (RFC 9864), the older name accepted during the transition
    assert metadata["token_endpoint_auth_signing_alg_values_supported"] == ["Ed25519", "EdDSA"]
    hub_keys = client.get("/.well-known/jwks.json").json()["keys"]
    assert hub_keys and {key["alg"] for key in hub_keys} == {"Ed25519"}
    assert metadata["revocation_endpoint"].endswith("/oauth/revoke")
    assert metadata["introspection_endpoint"].endswith("/oauth/introspect")


@pytest.mark.parametrize("alg", ["EdDSA", "Ed25519"])
def test_private_key_jwt_yields_an_rfc9068_access_token(
    client: TestClient, federation: Path, alg: str
) -> None:
    credentials = _credentials(federation, "js")
    response = _token(client, _assertion(credentials, alg=alg))
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 600
    keys = KeySet.import_key_set(client.get("/.well-known/jwks.json").json())
    assert json.loads(base64.urlsafe_b64decode(body["access_token"].split(".")[0] + "=="))["alg"] == "Ed25519"
    token = jwt.decode(body["access_token"], keys, algorithms=["Ed25519"])
    assert token.header["typ"] == "at+jwt" and token.header["alg"] == "Ed25519"
    assert token.header["kid"] in {key["kid"] for key in client.get("/.well-known/jwks.json").json()["keys"]}
    claims = token.claims
    assert claims["sub"] == claims["client_id"] == "js"
    assert claims["aud"] == claims["iss"] == "http://127.0.0.1:8000"
    assert claims["exp"] - claims["iat"] == 600
    assert set(claims["scope"].split()) == set(credentials["scopes"])
    assert claims["jti"]


def test_the_issuer_is_an_accepted_audience(client: TestClient, federation: Path) -> None:
    credentials = _credentials(federation, "sh")
    assert _token(client, _assertion(credentials, aud="http://127.0.0.1:8000")).status_code == 200


def _refused(response, text: str | None = None) -> dict:
    assert response.status_code in (400, 401), response.text
    body = response.json()
    assert body["error"] in {
        "invalid_client",
        "invalid_scope",
        "invalid_request",
        "unsupported_grant_type",
    }
    if text:
        assert text in body.get("error_description", "")
    return body


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"aud": "https://elsewhere.example/token"}, "aud"),
        ({"exp": int(time.time()) + 3 * 3600}, "exp lies too far ahead"),
        ({"exp": int(time.time()) - 3600}, "exp"),
        ({"iss": "sh"}, "Issuer and Subject"),
    ],
    ids=["wrong-audience", "exp-beyond-60-minutes", "expired", "iss-not-sub"],
)
def test_bad_assertions_are_refused(client: TestClient, federation: Path, overrides, reason: str) -> None:
    credentials = _credentials(federation, "js")
    _refused(_token(client, _assertion(credentials, **overrides)))


def test_an_assertion_is_single_use(client: TestClient, federation: Path) -> None:
    assertion = _assertion(_credentials(federation, "js"))
    assert _token(client, assertion).status_code == 200
    _refused(_token(client, assertion), "JWT ID is used before")


def test_an_assertion_signed_by_another_key_is_refused(client: TestClient, federation: Path) -> None:
    credentials = _credentials(federation, "js")
    credentials["private_jwk"] = _credentials(federation, "sh")["private_jwk"]
    _refused(_token(client, _assertion(credentials)))


def test_scopes_beyond_the_clients_are_refused(client: TestClient, federation: Path) -> None:
    credentials = _credentials(federation, "js")
    body = _refused(_token(client, _assertion(credentials), scope="blocks:read recognitions:decide"))
    assert body["error"] == "invalid_scope"
    narrowed = _token(client, _assertion(credentials), scope="blocks:read")
    assert narrowed.json()["scope"] == "blocks:read"


def test_client_secret_basic_is_off_outside_the_demo(client: TestClient, federation: Path) -> None:
    basic = base64.b64encode(b"js:anything").decode()
    response = client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials"},
        headers={"Authorization": f"Basic {basic}"},
    )
    _refused(response)


def test_client_secret_basic_in_the_demo_with_the_secret_stored_as_a_hash(database, settings) -> None:
    demo = settings.model_copy(update={"demo": True})
    credentials_dir = seed_demo(database, demo).credentials_dir
    secret = _credentials(credentials_dir, "sh")["client_secret"]
    with TestClient(create_app(demo, database)) as demo_client:
        ok = demo_client.post("/oauth/token", data={"grant_type": "client_credentials"}, auth=("sh", secret))
        assert ok.status_code == 200, ok.text
        wrong = demo_client.post("/oauth/token", data={"grant_type": "client_credentials"}, auth=("sh", "x"))
        _refused(wrong)
    with database.unit_of_work() as session:
        stored = session.exec(select(OAuthClient).where(OAuthClient.client_id == "sh")).one().secret_hash
    assert stored.startswith("scrypt$")
    assert secret not in stored


def test_unsupported_grant_and_wrong_content_type(client: TestClient, federation: Path) -> None:
    credentials = _credentials(federation, "js")
    response = _token(client, _assertion(credentials), grant_type="password")
    assert response.json()["error"] == "unsupported_grant_type"
    as_json = client.post("/oauth/token", json={"grant_type": "client_credentials"})
    assert as_json.status_code == 400
    assert as_json.json()["error"] == "invalid_request"


def test_unknown_client_is_refused(client: TestClient, federation: Path) -> None:
    credentials = {**_credentials(federation, "js"), "client_id": "nobody"}
    _refused(_token(client, _assertion(credentials)))
