"""Signed requests: every state-changing request from a platform or an administrator carries a
detached JWS over its exact body bytes, in the ``Puhui-Signature`` header.

The JWS protected header holds ``alg`` (EdDSA or Ed25519), ``kid`` (a key of the platform's JWKS),
``jti`` (unique per request), ``iat`` (seconds since the epoch), ``htm`` (the HTTP method) and
``htu`` (the request path), so a signature cannot be replayed on another endpoint. The hub refuses
a missing signature (1016), an unknown key (1012), a bad signature (1011), a malformed JWS (1010),
a replayed ``jti`` (1017), ``iat`` more than the allowed skew away (1018) and a method or path
other than the signed ones (1019); it stores the received bytes and signature with the record and
answers with the record's id in ``Puhui-Receipt``.
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Annotated

from fastapi import Depends, Request, Response
from fastapi.concurrency import run_in_threadpool
from sqlmodel import Session

from hub.auth.keys import client_jwks
from hub.auth.models import SignedRequest
from hub.auth.principal import CurrentPrincipal, Principal
from hub.auth.repository import AuthRepository
from hub.auth.scopes import ClientKind
from hub.deps import SessionDep, SettingsDep
from hub.problems import HubError
from hub.settings import Settings
from schemas.jwk import JWKError, JWKSet
from schemas.jws import JWSError, verify_detached

SIGNATURE_HEADER = "Puhui-Signature"
RECEIPT_HEADER = "Puhui-Receipt"
STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
MUST_SIGN = frozenset({ClientKind.PLATFORM, ClientKind.ADMIN})


class SignatureRefused(HubError):
    status = 401
    slug = "request-signature"
    title = "The request signature is refused"


class ReplayRefused(HubError):
    status = 409
    slug = "replayed-request"
    title = "The request was already received"


def _verify(
    request_method: str,
    path: str,
    content_type: str | None,
    body: bytes,
    token: str | None,
    principal: Principal,
    session: Session,
    settings: Settings,
) -> SignedRequest | None:
    if token is None:
        if principal.kind in MUST_SIGN:
            raise SignatureRefused(f"a {SIGNATURE_HEADER} header is required", code="1016")
        return None
    repository = AuthRepository(session)
    found = repository.client_with_platform(principal.client_id)
    if found is None:
        raise SignatureRefused("the signing client is unknown", code="1012")
    now = datetime.now(UTC)
    try:
        keys = JWKSet.from_dict(client_jwks(found[0], found[1], now))
        verified = verify_detached(token, body, keys)
    except JWSError as exc:
        raise SignatureRefused(exc.message, code=exc.code) from exc
    except JWKError as exc:
        raise SignatureRefused(f"the client's keys are unusable: {exc}", code="1012") from exc
    header = verified.header
    jti, iat = header.get("jti"), header.get("iat")
    if not isinstance(jti, str) or not jti or len(jti) > 128 or not isinstance(iat, int):
        raise SignatureRefused("the signature header needs jti (string) and iat (integer)", code="1010")
    if abs(time.time() - iat) > settings.clock_skew:
        raise SignatureRefused(f"iat is more than {settings.clock_skew} s from the hub's clock", code="1018")
    if header.get("htm") != request_method or header.get("htu") != path:
        raise SignatureRefused(f"the signature is for {header.get('htm')} {header.get('htu')}", code="1019")
    expires = datetime.fromtimestamp(iat, UTC) + timedelta(seconds=2 * settings.clock_skew)
    if not repository.consume_nonce("request", principal.client_id, jti, expires, now):
        raise ReplayRefused(f"a request with jti {jti!r} was already received", code="1017")
    record = SignedRequest(
        id=str(uuid.uuid4()),
        client_id=principal.client_id,
        platform_code=principal.platform_code,
        method=request_method,
        path=path,
        content_type=content_type,
        body=body,
        jws=token,
        kid=verified.kid,
        jti=jti,
        issued_at=datetime.fromtimestamp(iat, UTC),
    )
    repository.add_signed_request(record)
    return record


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
    body = await request.body()
    record = await run_in_threadpool(
        _verify,
        request.method,
        request.url.path,
        request.headers.get("content-type"),
        body,
        request.headers.get(SIGNATURE_HEADER),
        principal,
        session,
        settings,
    )
    if record is not None:
        response.headers[RECEIPT_HEADER] = record.id
    return record


SignedRequestDep = Annotated[SignedRequest | None, Depends(verify_signed_request)]
