"""Signed requests: every state-changing request from a platform or an administrator carries a
detached JWS over its exact body bytes, in the ``Puhui-Signature`` header.

The JWS protected header holds ``alg`` (EdDSA or Ed25519), ``kid`` (a key of the platform's JWKS),
``jti`` (unique per request), ``iat`` (seconds since the epoch), ``htm`` (the HTTP method) and
``htu`` (the request path), so a signature cannot be replayed on another endpoint. The hub refuses
a missing signature (1016), an unknown key (1012), a bad signature (1011), a malformed JWS (1010),
a replayed ``jti`` (1017), ``iat`` more than the allowed skew away (1018) and a method or path
other than the signed ones (1019); it stores the received bytes and signature with the record and
answers with the record's id in ``Puhui-Receipt``.

The check itself (``hub.auth.signatures``) runs in the authentication's thread-pool call, with
the keys read with the token; this dependency hands over its verdict after the scope check.

``signed_caller(scope)`` is the same three dependencies (authentication, the scope check, the
signature) as ONE: the hot routes (the transfer proposals) resolve one dependency node instead of
a dozen (FastAPI walks every node of every dependency, cached or not, on every request), with the
same checks in the same order; ``hub.openapi`` documents its refusals as those of the three.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, cast

from fastapi import Depends, Request, Response
from sqlmodel import Session

from hub.auth.models import SignedRequest
from hub.auth.principal import (
    STATE_CHANGING,
    VERDICT,
    CurrentPrincipal,
    DeferredPrincipal,
    Principal,
    check_scopes,
    check_token,
    token_claims,
)
from hub.auth.signatures import (
    SIGNATURE_HEADER,
    ReplayRefused,
    SignatureRefused,
    verify_received,
    verify_request,
)
from hub.deps import Deferred, SessionDep, SettingsDep, blocking, runs_in_one_hop
from hub.problems import HubError
from hub.settings import Settings

__all__ = [
    "SIGNATURE_HEADER",
    "STATE_CHANGING",
    "ReplayRefused",
    "SignatureRefused",
    "SignedCaller",
    "SignedRequestDep",
    "signed_caller",
    "verify_signed_request",
]

RECEIPT_HEADER = "Puhui-Receipt"
_UNCHECKED = object()


async def verify_signed_request(
    request: Request,
    response: Response,
    principal: CurrentPrincipal,
    session: SessionDep,
    settings: SettingsDep,
) -> SignedRequest | None:
    """Verify and record the signature of a state-changing request (None for unsigned operator
    and committee requests, which may sign but need not; platforms and administrators must)."""
    if request.method not in STATE_CHANGING:
        return None
    if isinstance(principal, DeferredPrincipal):  # an in_one_hop route: checked in its own call
        return cast(
            SignedRequest,
            _deferred_check(request, response, principal, session, settings, await request.body()),
        )
    verdict = getattr(request.state, VERDICT, _UNCHECKED)
    if verdict is _UNCHECKED:  # authenticated without a verdict (a dependency override): check now
        body = await request.body()
        verdict = await blocking(lambda: verify_received(request, body, principal, session, settings))
    if isinstance(verdict, HubError):
        raise verdict
    if isinstance(verdict, SignedRequest):
        response.headers[RECEIPT_HEADER] = verdict.id
        return verdict
    return None


class DeferredSignature(Deferred):
    """The signed request of an ``in_one_hop`` route, checked after the principal's token and
    scopes, in the route's own thread-pool call."""

    def __init__(self, principal: DeferredPrincipal) -> None:
        self.principal = principal
        self.record: SignedRequest | None = None

    def resolve(self) -> SignedRequest | None:
        self.principal.resolve()
        return self.record


def _deferred_check(
    request: Request,
    response: Response,
    principal: DeferredPrincipal,
    session: Session,
    settings: Settings,
    body: bytes,
) -> DeferredSignature:
    deferred = DeferredSignature(principal)
    method, path = request.method, request.url.path
    content_type, token = request.headers.get("content-type"), request.headers.get(SIGNATURE_HEADER)

    def check(checked: Principal) -> None:
        record = verify_request(method, path, content_type, body, token, checked, session, settings)
        if record is not None:
            response.headers[RECEIPT_HEADER] = record.id
        deferred.record = record

    principal.then(check)
    return deferred


SignedRequestDep = Annotated[SignedRequest | None, Depends(verify_signed_request)]


SIGNED_CALLER = "puhui_signed_caller"


@dataclass(frozen=True, slots=True)
class SignedCaller:
    """The authenticated client of a request, holding the route's scopes, and its signed request
    (None for an unsigned operator or committee request, or a request that changes nothing)."""

    principal: Principal
    signed: SignedRequest | None


class _DeferredCaller(Deferred):
    """The caller of an ``in_one_hop`` route, checked in the route's own thread-pool call."""

    def __init__(self, check: Callable[[], SignedCaller]) -> None:
        self._check = check
        self._caller: SignedCaller | None = None

    def resolve(self) -> SignedCaller:
        if self._caller is None:
            self._caller = self._check()
        return self._caller


def signed_caller(*scopes: str) -> Callable[[Request, Response, Session], Awaitable[SignedCaller]]:
    """A dependency: ``CurrentPrincipal`` + ``require(*scopes)`` + ``SignedRequestDep`` in one.
    The refusals and their order are theirs: 401 (no valid token), 429 (rate), 401 (token
    revoked, client or platform suspended), 403 (a scope missing), then the signature's (401,
    409); the signature is verified and recorded only for a caller holding the scopes. The
    blocking checks run in one thread-pool call (the route's own for an ``in_one_hop`` route)."""

    async def caller(request: Request, response: Response, session: SessionDep) -> SignedCaller:
        settings: Settings = request.app.state.settings
        jti = str(token_claims(request, settings, request.app.state.keystore)["jti"])
        method = request.method
        signs = method in STATE_CHANGING
        body = await request.body() if signs else b""
        path, headers = request.url.path, request.headers
        content_type, token = headers.get("content-type"), headers.get(SIGNATURE_HEADER)

        def check() -> SignedCaller:
            principal = check_token(session, jti)
            check_scopes(principal, scopes)
            record = None
            if signs:
                record = verify_request(method, path, content_type, body, token, principal, session, settings)
            if record is not None:
                response.headers[RECEIPT_HEADER] = record.id
            return SignedCaller(principal, record)

        if runs_in_one_hop(request):
            return cast(SignedCaller, _DeferredCaller(check))
        return await blocking(check)

    setattr(caller, SIGNED_CALLER, scopes)
    return caller


def is_signed_caller(call: object) -> bool:
    """Whether ``call`` is a dependency made by ``signed_caller``."""
    return getattr(call, SIGNED_CALLER, None) is not None
