"""Who is calling: bearer-token authentication (RFC 6750, RFC 9068), scopes, rate limits.

``CurrentPrincipal`` verifies the access token's signature and claims (no database), counts the
request against the client's rate limit (its own short transaction, so refused requests count
too), then checks in one query that the token is not revoked and that its client and platform are
active — a suspended platform's tokens stop working at once. ``require(scope)`` adds a scope check.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from hub.auth.keys import ACCEPTED_ALGORITHMS, hub_keyset
from hub.auth.repository import AuthRepository
from hub.auth.scopes import ClientKind
from hub.deps import DatabaseDep, KeyStoreDep, SessionDep, SettingsDep
from hub.problems import HubError

REALM = "puhui-hub"


class Unauthorized(HubError):
    status = 401
    slug = "unauthorized"
    title = "Authentication required"

    def __init__(self, detail: str, *, code: str, error: str | None = "invalid_token") -> None:
        challenge = f'Bearer realm="{REALM}"'
        if error:
            challenge += f', error="{error}", error_description="{detail}"'
        super().__init__(detail, code=code, headers={"WWW-Authenticate": challenge})


class Forbidden(HubError):
    status = 403
    slug = "insufficient-scope"
    title = "Insufficient scope"

    def __init__(self, detail: str, *, scope: str) -> None:
        challenge = f'Bearer realm="{REALM}", error="insufficient_scope", scope="{scope}"'
        super().__init__(detail, code="1033", headers={"WWW-Authenticate": challenge})


class TooManyRequests(HubError):
    status = 429
    slug = "rate-limited"
    title = "Too many requests"


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated client of a request."""

    client_id: str
    kind: ClientKind
    platform_code: str | None
    region: str | None
    scopes: frozenset[str]
    token_id: str

    def owns(self, platform_code: str | None) -> bool:
        """Whether this client acts for ``platform_code`` (its platform, or its operator's region)."""
        if platform_code is None:
            return False
        return platform_code in (self.platform_code, self.region)


def _bearer(request: Request) -> str:
    header = request.headers.get("authorization")
    if not header:
        raise Unauthorized("an access token is required", code="1030", error=None)
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip() or " " in token.strip():
        raise Unauthorized("the Authorization header is not 'Bearer <token>'", code="1031")
    return token.strip()


def _claims(token: str, keys: KeySet, issuer: str) -> dict[str, Any]:
    try:
        decoded = jwt.decode(token, keys, algorithms=ACCEPTED_ALGORITHMS)
        registry = jwt.JWTClaimsRegistry(
            leeway=30,
            iss={"essential": True, "value": issuer},
            aud={"essential": True, "value": issuer},
            exp={"essential": True},
            sub={"essential": True},
            jti={"essential": True},
            client_id={"essential": True},
        )
        registry.validate(decoded.claims)
    except (JoseError, ValueError) as exc:
        raise Unauthorized("the access token is invalid or expired", code="1031") from exc
    if decoded.header.get("typ") not in ("at+jwt", "application/at+jwt"):
        raise Unauthorized("not an access token (typ at+jwt)", code="1031")
    return dict(decoded.claims)


def _rate_limit(database: Any, client_id: str, per_minute: int) -> None:
    now = time.time()
    window = int(now // 60)
    with database.unit_of_work() as session:
        count = AuthRepository(session).count_request(client_id, window)
    if count > per_minute:
        retry = max(1, int((window + 1) * 60 - now))
        raise TooManyRequests(
            f"more than {per_minute} requests this minute",
            code="1034",
            headers={"Retry-After": str(retry)},
        )


def authenticate(
    request: Request,
    session: SessionDep,
    database: DatabaseDep,
    settings: SettingsDep,
    keystore: KeyStoreDep,
) -> Principal:
    token = _bearer(request)
    claims = _claims(token, hub_keyset(keystore), settings.issuer)
    _rate_limit(database, str(claims["client_id"]), settings.rate_limit_per_minute)
    found = AuthRepository(session).token_state(str(claims["jti"]))
    if found is None:
        raise Unauthorized("the access token is unknown", code="1031")
    row, client, platform = found
    if row.revoked_at is not None:
        raise Unauthorized("the access token has been revoked", code="1032")
    if client.status != "active" or (platform is not None and str(platform.status) != "active"):
        raise Unauthorized(f"client {client.client_id} is suspended", code="2003")
    granted = frozenset(row.scope.split()) & frozenset(client.scopes)
    return Principal(
        client_id=client.client_id,
        kind=ClientKind(client.kind),
        platform_code=client.platform_code,
        region=client.region,
        scopes=granted,
        token_id=row.jti,
    )


CurrentPrincipal = Annotated[Principal, Depends(authenticate)]


def require(*scopes: str) -> Callable[[Principal], Principal]:
    """A dependency: the principal, who must hold every one of ``scopes``."""

    def check(principal: CurrentPrincipal) -> Principal:
        missing = [scope for scope in scopes if scope not in principal.scopes]
        if missing:
            raise Forbidden(f"this requires scope {' '.join(missing)}", scope=" ".join(scopes))
        return principal

    return check
