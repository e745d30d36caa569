"""The attacker's pass over the verified-token cache (issue #14: ``hub.auth.principal.VerifiedTokens``,
a token's signature verdict kept per token string, emptied when the hub's keys change in any
process): what it keeps must never let a token through that the hub would refuse without it."""

from __future__ import annotations

import base64
import json
import os
import secrets
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import OKPKey
from sqlalchemy import text

from hub.app import create_app
from hub.auth.principal import VerifiedTokens, verified_tokens
from hub.client import PlatformClient
from hub.database import Database
from hub.keystore import KeyStore
from hub.settings import Settings
from schemas.jws import SIGNING_ALGORITHM


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _code(response) -> tuple[int, str | None]:  # type: ignore[no-untyped-def]
    return response.status_code, response.json().get("code") if response.status_code >= 400 else None


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> dict:
    return json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))


def _second_app(settings: Settings, database: Database) -> tuple[TestClient, Database]:
    """Another hub app on the same database and key directory, with its own engine (as another
    process has)."""
    other = Database.from_url(database.engine.url.render_as_string(hide_password=False))
    return TestClient(create_app(settings, other)), other


@pytest.mark.parametrize("how", ["revoked", "client-suspended", "platform-suspended"])
def test_a_kept_token_is_refused_at_once_when_another_hub_process_revokes_or_suspends(
    client: TestClient, settings: Settings, database: Database, federation: Path, how: str
) -> None:
    """Two hub apps on one database: a token this one verified and kept is refused the moment the
    other revokes it (RFC 7009) or suspends its client or platform."""
    jiangsu = PlatformClient.from_credentials(federation / "js.json", transport=client._transport)
    token = jiangsu.access_token()
    assert _code(client.get("/v1/platforms", headers=_bearer(token))) == (200, None)  # kept here
    second, other_db = _second_app(settings, database)
    with second:
        if how == "revoked":
            elsewhere = PlatformClient.from_credentials(federation / "js.json", transport=second._transport)
            assert (
                elsewhere.oauth.revoke_token(f"{elsewhere.base_url}/oauth/revoke", token).status_code == 200
            )
            expected = (401, "1032")
        else:
            if how == "client-suspended":  # as an operator's tool in another process would
                with other_db.unit_of_work() as session:
                    session.execute(
                        text("UPDATE oauth_client SET status = 'suspended' WHERE client_id = 'js'")
                    )
            else:
                admin = PlatformClient.from_credentials(
                    federation / "admin-1.json", transport=second._transport
                )
                admin.post("/v1/platforms/JS/suspend", {})
            expected = (401, "2003")
        found = _code(client.get("/v1/platforms", headers=_bearer(token)))
        assert found[0] == 401 and found[1] in (expected[1], "1032"), found
        assert _code(second.get("/v1/platforms", headers=_bearer(token))) == found
    other_db.dispose()
    jiangsu.close()


def test_a_token_kept_as_valid_is_refused_once_it_expires(
    client: TestClient, settings: Settings, as_client: Callable[[str], PlatformClient], monkeypatch
) -> None:
    """The verdict kept is the signature's only: the same kept token, the clock past its expiry
    (and the 30 s leeway), is refused."""
    token = as_client("js").access_token()
    assert _code(client.get("/v1/platforms", headers=_bearer(token))) == (200, None)
    expiry = int(_unb64(token.split(".")[1])["exp"])
    monkeypatch.setattr("joserfc._rfc7519.claims._generate_now", lambda: expiry + 31)
    assert _code(client.get("/v1/platforms", headers=_bearer(token))) == (401, "1031")
    monkeypatch.setattr("joserfc._rfc7519.claims._generate_now", lambda: expiry + 29)  # within the leeway
    assert _code(client.get("/v1/platforms", headers=_bearer(token))) == (200, None)


def _retyped(token: str, **changes: object) -> str:
    """``token`` with its claims changed, its header and signature bytes kept."""
    header, claims, signature = token.split(".")
    return ".".join([header, _b64(json.dumps({**_unb64(claims), **changes}).encode()), signature])


def test_a_kept_tokens_signature_on_other_claims_or_header_is_refused(
    client: TestClient, as_client: Callable[[str], PlatformClient]
) -> None:
    """The kept verdict belongs to the token's exact text: its signature bytes reused under other
    claims (another client, more scopes, a later expiry) or another header are refused, before
    and after the genuine token is kept."""
    token = as_client("js").access_token()
    header, claims, signature = token.split(".")
    forged = [
        _retyped(token, client_id="sh", sub="sh"),
        _retyped(token, scope="blocks:read transfers:write federation:admin"),
        _retyped(token, exp=int(time.time()) + 86400),
        ".".join([_b64(json.dumps({**_unb64(header), "typ": "JWT"}).encode()), claims, signature]),
        ".".join([_b64(json.dumps({**_unb64(header), "alg": "none"}).encode()), claims, ""]),
        ".".join([header, claims, signature[:-2] + ("AA" if signature[-2:] != "AA" else "BB")]),
        f"{token}.",
        f"{header}.{claims}",
    ]
    for round_ in ("before", "after"):
        for candidate in forged:
            assert _code(client.get("/v1/platforms", headers=_bearer(candidate))) == (401, "1031"), (
                round_,
                candidate,
            )
        assert _code(client.get("/v1/platforms", headers=_bearer(token))) == (200, None)


def test_a_flood_of_tokens_keeps_only_verified_ones_and_no_more_than_its_size(
    settings: Settings, federation: Path
) -> None:
    """Garbage, and well-formed tokens signed by another key under the hub's kid, are never kept
    (each is verified, and refused, every time); verified tokens are kept up to the size, the
    least recently used forgotten first and verified again when they come back."""
    store = KeyStore(settings.resolved_keys_dir)
    key = store.active()
    signing = OKPKey.import_key(key.private_jwk())
    stranger = OKPKey.generate_key("Ed25519")
    tokens = VerifiedTokens(verified_tokens(store).keys, size=32)
    now = int(time.time())

    def signed(jti: str, by: OKPKey = signing) -> str:
        header = {"alg": SIGNING_ALGORITHM, "typ": "at+jwt", "kid": key.kid}
        claims = {"iss": settings.issuer, "aud": settings.issuer, "sub": "js", "client_id": "js",
                  "iat": now, "exp": now + 600, "jti": jti}  # fmt: skip
        return jwt.encode(header, claims, by, algorithms=[SIGNING_ALGORITHM])

    first = signed("first")
    assert tokens.decode(first).claims["jti"] == "first"
    garbage = [secrets.token_urlsafe(n) for n in (1, 20, 300)] + ["a.b.c", "..", "e30.e30.", "e30.e30.e30"]
    garbage += [signed(f"forged-{n}", stranger) for n in range(200)]
    for candidate in garbage * 2:
        with pytest.raises((JoseError, ValueError)):
            tokens.decode(candidate)
    assert list(tokens._tokens) == [first]
    valid = [signed(f"valid-{n}") for n in range(100)]
    for n, candidate in enumerate(valid):
        assert tokens.decode(candidate).claims["jti"] == f"valid-{n}"
    assert len(tokens._tokens) == 32
    assert list(tokens._tokens) == valid[-32:]  # the first and the oldest are forgotten
    assert tokens.decode(first).claims["jti"] == "first"  # verified again
    assert len(tokens._tokens) == 32 and next(reversed(tokens._tokens)) == first


def test_a_key_retired_within_one_tick_of_the_file_systems_clock_is_noticed(
    client: TestClient, settings: Settings, as_client: Callable[[str], PlatformClient]
) -> None:
    """Another process retires the key that signed a kept token so soon after the last change that
    the key directory's mtime reads the same (a coarse file-system clock): the key set still
    changes here, and the token is refused."""
    keys_dir = settings.resolved_keys_dir
    token = as_client("js").access_token()
    operator = KeyStore(keys_dir)
    old = operator.active()
    operator.generate()
    assert _code(client.get("/v1/platforms", headers=_bearer(token))) == (200, None)  # kept, old key
    stamp = keys_dir.stat()
    operator.retire(old.kid)
    os.utime(keys_dir, ns=(stamp.st_atime_ns, stamp.st_mtime_ns))  # the same tick as the rotation
    assert _code(client.get("/v1/platforms", headers=_bearer(token))) == (401, "1031")
    assert old.kid not in {k["kid"] for k in client.get("/.well-known/jwks.json").json()["keys"]}
