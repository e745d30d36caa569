"""Bearer tokens on the API (RFC 6750): 401s with WWW-Authenticate, scopes, suspension, limits."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient
from joserfc import jwt
from joserfc.jwk import OKPKey

from hub.app import create_app
from hub.client import AuthenticationFailed, PermissionDenied, RateLimited
from hub.keystore import KeyStore
from schemas.jws import SIGNING_ALGORITHM

PROBLEM = "application/problem+json"


def _refusal(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["code"] == code
    return body


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_no_token_is_a_401_with_a_bearer_challenge(client: TestClient) -> None:
    response = client.get("/v1/platforms")
    _refusal(response, 401, "1030")
    assert response.headers["www-authenticate"] == 'Bearer realm="puhui-hub"'


@pytest.mark.parametrize("header", ["Basic abc", "Bearer", "Bearer a b", "Bearer not-a-jwt"])
def test_a_malformed_token_is_a_401_invalid_token(client: TestClient, header: str) -> None:
    response = client.get("/v1/platforms", headers={"Authorization": header})
    _refusal(response, 401, "1031")
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


def _forged(settings, **claims: object) -> str:
    key = KeyStore(settings.resolved_keys_dir).active()
    now = int(time.time())
    base = {
        "iss": "http://127.0.0.1:8000", "aud": "http://127.0.0.1:8000", "sub": "js", "client_id": "js",
        "iat": now - 1200, "exp": now - 600, "jti": "x", "scope": "blocks:read",
    }  # fmt: skip
    signing = OKPKey.import_key(key.private_jwk())
    return jwt.encode(
        {"alg": SIGNING_ALGORITHM, "typ": "at+jwt", "kid": key.kid},
        {**base, **claims},
        signing,
        algorithms=[SIGNING_ALGORITHM],
    )


def test_an_expired_token_is_a_401(client: TestClient, settings, federation) -> None:
    _refusal(client.get("/v1/platforms", headers=_bearer(_forged(settings))), 401, "1031")


def test_a_token_signed_by_another_key_is_a_401(client: TestClient, federation) -> None:
    other = OKPKey.generate_key("Ed25519")
    now = int(time.time())
    claims = {"iss": "http://127.0.0.1:8000", "aud": "http://127.0.0.1:8000", "sub": "js", "client_id": "js",
              "iat": now, "exp": now + 600, "jti": "y", "scope": "blocks:read"}  # fmt: skip
    header = {"alg": SIGNING_ALGORITHM, "typ": "at+jwt", "kid": other.thumbprint()}
    token = jwt.encode(header, claims, other, algorithms=[SIGNING_ALGORITHM])
    _refusal(client.get("/v1/platforms", headers=_bearer(token)), 401, "1031")


def test_a_token_the_hub_never_issued_is_a_401(client: TestClient, settings, federation) -> None:
    token = _forged(settings, exp=int(time.time()) + 600, jti="never-issued")
    body = _refusal(client.get("/v1/platforms", headers=_bearer(token)), 401, "1031")
    assert (
        body["detail"] == "the access token is unknown"
    )  # its signature verified: refused by the hub's records


def test_a_revoked_token_is_a_401_at_once(client: TestClient, as_client) -> None:
    jiangsu = as_client("js")
    token = jiangsu.access_token()
    assert client.get("/v1/platforms", headers=_bearer(token)).status_code == 200
    assert jiangsu.introspect(token)["active"] is True
    jiangsu.revoke()
    response = client.get("/v1/platforms", headers=_bearer(token))
    _refusal(response, 401, "1032")
    assert 'error="invalid_token"' in response.headers["www-authenticate"]
    assert as_client("js").introspect(token) == {"active": False}


def test_a_token_accepted_before_is_refused_once_another_process_retires_its_hub_key(
    client: TestClient, settings, as_client
) -> None:
    """The verified token is kept with the hub's key set: a rotation and retirement by another
    process (another KeyStore on the same directory) forgets it, and the token is refused."""
    token = as_client("js").access_token()
    assert client.get("/v1/platforms", headers=_bearer(token)).status_code == 200  # verified, kept
    operator = KeyStore(settings.resolved_keys_dir)
    old = operator.active()
    operator.generate()
    operator.retire(old.kid)
    _refusal(client.get("/v1/platforms", headers=_bearer(token)), 401, "1031")


def test_a_kept_token_is_checked_for_expiry_every_time(settings, federation) -> None:
    """Only the signature's verdict is kept: the claims (expiry first) are validated on every
    request, so an expired token stays refused although its signature verified."""
    from hub.auth.principal import Unauthorized, _claims, verified_tokens

    store = KeyStore(settings.resolved_keys_dir)
    tokens = verified_tokens(store)
    key, now = store.active(), int(time.time())
    claims = {"iss": settings.issuer, "aud": settings.issuer, "sub": "js", "client_id": "js",
              "iat": now - 1200, "exp": now - 600, "jti": "x", "scope": "blocks:read"}  # fmt: skip
    header = {"alg": SIGNING_ALGORITHM, "typ": "at+jwt", "kid": key.kid}
    expired = jwt.encode(header, claims, OKPKey.import_key(key.private_jwk()), algorithms=[SIGNING_ALGORITHM])
    for _ in range(2):
        with pytest.raises(Unauthorized):
            _claims(expired, tokens, settings.issuer)
        assert tokens.decode(expired).claims["jti"] == "x"  # the signature verified (and is kept)


def test_a_client_cannot_introspect_or_revoke_anothers_token(client: TestClient, as_client) -> None:
    token = as_client("js").access_token()
    assert as_client("sh").introspect(token) == {"active": False}
    assert as_client("operator-sh").introspect(token) == {"active": False}  # not even its region's
    assert as_client("admin-1").introspect(token)["active"] is True  # an administrator may


def test_a_platform_token_cannot_use_an_operator_scope(as_client) -> None:
    jiangsu = as_client("js")
    with pytest.raises(PermissionDenied) as refused:
        jiangsu.post("/v1/platforms/JS/suspend", {})
    assert refused.value.code == "1033"


def test_insufficient_scope_names_the_scope_in_the_challenge(client: TestClient, as_client) -> None:
    token = as_client("committee-1").access_token()
    response = client.post("/v1/platforms/JS/suspend", headers=_bearer(token))
    _refusal(response, 403, "1033")
    assert response.headers["www-authenticate"] == (
        'Bearer realm="puhui-hub", error="insufficient_scope", scope="federation:admin"'
    )


def test_a_suspended_platforms_tokens_stop_at_once_and_stay_dead_after_reactivation(
    client: TestClient, as_client
) -> None:
    jiangsu, admin = as_client("js"), as_client("admin-1")
    old_token = jiangsu.access_token()
    jiangsu.get("/v1/platforms")
    assert admin.post("/v1/platforms/JS/suspend", {})["status"] == "suspended"
    with pytest.raises(AuthenticationFailed) as refused:
        jiangsu.get("/v1/platforms")
    assert refused.value.code in ("2003", "1032")
    with pytest.raises(AuthenticationFailed):
        as_client("js").access_token()  # and it gets no new token
    admin.post("/v1/platforms/JS/reactivate", {})
    _refusal(client.get("/v1/platforms", headers=_bearer(old_token)), 401, "1032")
    assert as_client("js").get("/v1/platforms/JS")["status"] == "active"  # with a new token


def test_the_rate_limit_answers_429_with_retry_after(database, settings, federation) -> None:
    from hub.client import PlatformClient

    limited = settings.model_copy(update={"rate_limit_per_minute": 3})
    with TestClient(create_app(limited, database)) as test_client:
        jiangsu = PlatformClient.from_credentials(federation / "js.json", transport=test_client._transport)
        token = jiangsu.access_token()
        codes = [test_client.get("/v1/platforms", headers=_bearer(token)).status_code for _ in range(4)]
        assert codes[:3] == [200, 200, 200]
        refused = test_client.get("/v1/platforms", headers=_bearer(token))
        _refusal(refused, 429, "1034")
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        with pytest.raises(RateLimited) as raised:
            jiangsu.get("/v1/platforms")
        assert raised.value.retry_after >= 1
        jiangsu.close()


def test_a_body_over_the_limit_is_a_413_problem(database, settings) -> None:
    small = settings.model_copy(update={"max_body_bytes": 1024})
    with TestClient(create_app(small, database)) as test_client:
        response = test_client.post("/v1/schemas/problem/validate", content=b"x" * 5000)
        _refusal(response, 413, "1035")
        streamed = test_client.post("/v1/schemas/problem/validate", content=iter([b"x" * 800, b"y" * 800]))
        _refusal(streamed, 413, "1035")
