"""Who is calling: bearer-token authentication (RFC 6750, RFC 9068), scopes, rate limits.

``CurrentPrincipal`` verifies the access token's signature against the hub's key set (the
verified token kept per token string, with the key set: forgotten when the key store changes, in
any process) and its claims (expiry and all, on every request) and counts the request against the client's
rate limit (in this process: see ``hub.auth.ratelimit``) on the event loop; then, in ONE
thread-pool call, it reads the token, its client and the client's platform in one query — a
revoked token, a suspended client or platform is refused at once, whichever process revoked or
suspended it — and, when the route verifies a request signature (``hub.auth.signing``), verifies
it in the same call with the keys that query read. A signature's verdict is kept for the signing
dependency, which runs after the scope check, so the order of refusals is unchanged: 401 token,
429 rate, 401 revoked or suspended, 403 scope, then the signature's.
``require(scope)`` adds a scope check.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Annotated, Any, cast

from fastapi import Depends, Request
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from sqlmodel import Session

from hub.auth.keys import ACCEPTED_ALGORITHMS, hub_keyset
from hub.auth.models import SignedRequest
from hub.auth.ratelimit import RateLimiter
from hub.auth.repository import AuthRepository, TokenState
from hub.auth.scopes import ClientKind
from hub.auth.signatures import verify_received
from hub.deps import Deferred, KeyStoreDep, SessionDep, SettingsDep, blocking, runs_in_one_hop
from hub.keystore import KeyStore
from hub.problems import HubError
from hub.settings import Settings

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
    state: TokenState | None = field(default=None, compare=False, repr=False)

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


class VerifiedTokens:
    """Access tokens whose signature verified against one key set of the hub, by token string
    (the most recent ``size``). Only the signature's verdict and the decoded token are kept: the
    claims (expiry, issuer, audience) are validated on every request, and the token's row
    (revocation, the client's and platform's status) is read on every request. Built with the
    key set (``hub_keyset``): a rotation or retirement, in any process, starts an empty one."""

    def __init__(self, keys: KeySet, size: int = 4096) -> None:
        self.keys = keys
        self.size = size
        self._lock = threading.Lock()
        self._tokens: OrderedDict[str, jwt.Token] = OrderedDict()

    def decode(self, token: str) -> jwt.Token:
        """The token, its signature verified (now or before); raises as ``jwt.decode``."""
        with self._lock:
            found = self._tokens.get(token)
            if found is not None:
                self._tokens.move_to_end(token)
                return found
        decoded = jwt.decode(token, self.keys, algorithms=ACCEPTED_ALGORITHMS)
        with self._lock:
            self._tokens[token] = decoded
            while len(self._tokens) > self.size:
                self._tokens.popitem(last=False)
        return decoded


def verified_tokens(keystore: KeyStore) -> VerifiedTokens:
    """The verified tokens of the hub's current key set (a new, empty cache when it changes)."""
    return keystore.derived("verified-access-tokens", lambda store: VerifiedTokens(hub_keyset(store)))


def _claims(token: str, tokens: VerifiedTokens, issuer: str) -> dict[str, Any]:
    try:
        decoded = tokens.decode(token)
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


_limiter_lock = threading.Lock()


def rate_limiter(request: Request, per_minute: int) -> RateLimiter:
    """This app's rate limiter (one per app and process, made on first use)."""
    state = request.app.state
    limiter: RateLimiter | None = getattr(state, "rate_limiter", None)
    if limiter is None:
        with _limiter_lock:
            limiter = getattr(state, "rate_limiter", None) or RateLimiter(per_minute)
            state.rate_limiter = limiter
    return limiter


def _rate_limit(request: Request, client_id: str, per_minute: int) -> None:
    retry = rate_limiter(request, per_minute).hit(client_id)
    if retry is not None:
        raise TooManyRequests(
            f"more than {per_minute} requests this minute",
            code="1034",
            headers={"Retry-After": str(retry)},
        )


def check_token(session: Session, jti: str) -> Principal:
    """The principal of a verified access token, from the token's row, its client and platform
    as they are now (read on every request: only the signature's verdict is kept, not the state)."""
    state = AuthRepository(session).token_state(jti)
    if state is None:
        raise Unauthorized("the access token is unknown", code="1031")
    if state.revoked:
        raise Unauthorized("the access token has been revoked", code="1032")
    if state.client_status != "active" or state.platform_status not in (None, "active"):
        raise Unauthorized(f"client {state.client_id} is suspended", code="2003")
    return Principal(
        client_id=state.client_id,
        kind=ClientKind(state.kind),
        platform_code=state.platform_code,
        region=state.region,
        scopes=frozenset(state.scope.split()) & frozenset(state.client_scopes),
        token_id=jti,
        state=state,
    )


def token_claims(request: Request, settings: Settings, keystore: KeyStore) -> dict[str, Any]:
    """The claims of the request's access token (its signature and claims verified), the
    request counted against its client's rate limit: 401 without a valid token, then 429."""
    claims = _claims(_bearer(request), verified_tokens(keystore), settings.issuer)
    _rate_limit(request, str(claims["client_id"]), settings.rate_limit_per_minute)
    return claims


VERDICT = "puhui_signature_verdict"
STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})


async def authenticate(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    keystore: KeyStoreDep,
) -> Principal:
    claims = token_claims(request, settings, keystore)
    if runs_in_one_hop(request):  # the route's own thread-pool call finishes the checks
        return cast(Principal, DeferredPrincipal(lambda: check_token(session, str(claims["jti"]))))
    signs = request.method in STATE_CHANGING and route_verifies_signature(request)
    body = await request.body() if signs else b""

    def check() -> Principal:
        principal = check_token(session, str(claims["jti"]))
        if signs:
            try:
                verdict: SignedRequest | HubError | None = verify_received(
                    request, body, principal, session, settings
                )
            except HubError as refused:  # raised by the signing dependency, after the scope check
                verdict = refused
            setattr(request.state, VERDICT, verdict)
        return principal

    return await blocking(check)


class DeferredPrincipal(Deferred):
    """The principal of an ``in_one_hop`` route, finished in the route's thread-pool call: the
    token's row first, then the scopes its dependencies require, then the steps they added (the
    signature check), in that order — the order of refusals is the usual one."""

    def __init__(self, check: Callable[[], Principal]) -> None:
        self._check = check
        self._required: list[tuple[str, ...]] = []
        self._steps: list[Callable[[Principal], None]] = []
        self._principal: Principal | None = None

    def require(self, scopes: tuple[str, ...]) -> None:
        self._required.append(scopes)

    def then(self, step: Callable[[Principal], None]) -> None:
        self._steps.append(step)

    def resolve(self) -> Principal:
        if self._principal is None:
            principal = self._check()
            for scopes in self._required:
                check_scopes(principal, scopes)
            for step in self._steps:
                step(principal)
            self._principal = principal
        return self._principal


def route_verifies_signature(request: Request) -> bool:
    """Whether the matched route depends on the request-signature dependency."""
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if dependant is None:
        return False
    known = _signed_routes.get(id(route))
    if known is None:
        known = _depends_on(dependant, "verify_signed_request")
        _signed_routes[id(route)] = known
    return known


_signed_routes: dict[int, bool] = {}


def _depends_on(dependant: Any, name: str) -> bool:
    stack = [dependant]
    while stack:
        item = stack.pop()
        call = item.call
        if (
            getattr(call, "__name__", None) == name
            and getattr(call, "__module__", None) == "hub.auth.signing"
        ):
            return True
        stack.extend(item.dependencies)
    return False


CurrentPrincipal = Annotated[Principal, Depends(authenticate)]


def require(*scopes: str) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency: the principal, who must hold every one of ``scopes``."""

    async def check(principal: CurrentPrincipal) -> Principal:
        if isinstance(principal, DeferredPrincipal):
            principal.require(scopes)
        else:
            check_scopes(principal, scopes)
        return principal

    return check


def check_scopes(principal: Principal, scopes: tuple[str, ...]) -> None:
    missing = [scope for scope in scopes if scope not in principal.scopes]
    if missing:
        raise Forbidden(f"this requires scope {' '.join(missing)}", scope=" ".join(scopes))
