"""A stock OAuth client (authlib's, unchanged) introspects and revokes its own token with
private_key_jwt: its assertion names the endpoint it calls in ``aud``, which the hub accepts for its
own endpoints (as the RFC 8414 metadata advertises them) and the issuer, and for nothing else."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qsl

import httpx
import pytest
from authlib.oauth2.rfc7523 import PrivateKeyJWT
from fastapi.testclient import TestClient
from joserfc import jws, jwt
from joserfc.jwk import OKPKey

ISSUER = "http://127.0.0.1:8000"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def _credentials(federation: Path, name: str) -> dict:
    return json.loads((federation / f"{name}.json").read_text())


def _audiences(sent: list[httpx.Request]) -> list[str]:
    """The ``aud`` of the client assertion of each request the client sent."""
    found = []
    for request in sent:
        form = dict(parse_qsl(request.content.decode()))
        claims = json.loads(jws.extract_compact(form["client_assertion"].encode()).payload)
        found.append(claims["aud"])
    return found


@pytest.fixture
def stock(client: TestClient, federation: Path) -> Iterator[tuple[object, list[httpx.Request]]]:
    """authlib's httpx OAuth2Client with its own PrivateKeyJWT (no fixed endpoint: ``aud`` is the
    URL called), as its documentation sets it up; and the requests it sent."""
    from authlib.integrations.httpx_client import OAuth2Client

    credentials = _credentials(federation, "js")
    sent: list[httpx.Request] = []
    oauth = OAuth2Client(
        client_id=credentials["client_id"],
        client_secret=OKPKey.import_key(credentials["private_jwk"]),
        token_endpoint_auth_method="private_key_jwt",
        revocation_endpoint_auth_method="private_key_jwt",
        transport=client._transport,
        event_hooks={"request": [sent.append]},
    )
    oauth.register_client_auth_method(PrivateKeyJWT(alg="EdDSA"))
    yield oauth, sent
    oauth.close()


def test_the_metadata_advertises_the_endpoints_an_assertion_may_name(client: TestClient) -> None:
    metadata = client.get("/.well-known/oauth-authorization-server").json()
    assert metadata["token_endpoint"] == f"{ISSUER}/oauth/token"
    assert metadata["revocation_endpoint"] == f"{ISSUER}/oauth/revoke"
    assert metadata["introspection_endpoint"] == f"{ISSUER}/oauth/introspect"


def test_a_stock_authlib_client_introspects_and_revokes_its_token_with_private_key_jwt(stock) -> None:
    oauth, sent = stock
    metadata_urls = [f"{ISSUER}/oauth/token", f"{ISSUER}/oauth/introspect", f"{ISSUER}/oauth/revoke"]
    token = oauth.fetch_token(metadata_urls[0], grant_type="client_credentials")["access_token"]

    introspected = oauth.introspect_token(metadata_urls[1], token=token)
    assert introspected.status_code == 200, introspected.text
    assert introspected.json()["active"] is True
    assert introspected.json()["client_id"] == "js"

    revoked = oauth.revoke_token(metadata_urls[2], token=token)
    assert revoked.status_code == 200, revoked.text
    after = oauth.introspect_token(metadata_urls[1], token=token)
    assert after.status_code == 200, after.text
    assert after.json() == {"active": False}

    # each assertion named the endpoint it was sent to: the case that used to be refused
    assert _audiences(sent) == [*metadata_urls, metadata_urls[1]]


def _assertion(credentials: dict, audience: str) -> str:
    now = int(time.time())
    claims = {
        "iss": credentials["client_id"],
        "sub": credentials["client_id"],
        "aud": audience,
        "iat": now,
        "exp": now + 300,
        "jti": uuid.uuid4().hex,
    }
    key = OKPKey.import_key(credentials["private_jwk"])
    return jwt.encode({"alg": "EdDSA"}, claims, key, algorithms=["EdDSA"])


@pytest.mark.parametrize(
    "audience",
    [
        "https://elsewhere.example/oauth/introspect",
        f"{ISSUER}/v1/blocks",
        f"{ISSUER}/oauth/introspect/",
        "http://127.0.0.1:8001/oauth/introspect",
    ],
    ids=["another-server", "a-resource-of-the-hub", "trailing-slash", "another-port"],
)
@pytest.mark.parametrize("endpoint", ["/oauth/introspect", "/oauth/revoke", "/oauth/token"])
def test_an_assertion_naming_any_other_audience_is_refused(
    client: TestClient, federation: Path, endpoint: str, audience: str
) -> None:
    credentials = _credentials(federation, "js")
    token = client.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": _assertion(credentials, f"{ISSUER}/oauth/token"),
        },
    ).json()["access_token"]
    form = {"client_assertion_type": ASSERTION_TYPE, "client_assertion": _assertion(credentials, audience)}
    form |= {"grant_type": "client_credentials"} if endpoint == "/oauth/token" else {"token": token}
    response = client.post(endpoint, data=form)
    assert response.status_code in (400, 401), response.text
    assert response.json()["error"] == "invalid_client"
    assert "aud" in response.json()["error_description"]
    # and the token is still active: a refused revocation changed nothing
    check = client.post(
        "/oauth/introspect",
        data={
            "token": token,
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": _assertion(credentials, f"{ISSUER}/oauth/introspect"),
        },
    )
    assert check.json()["active"] is True
