"""Checking one signed request (see ``hub.auth.signing`` for the header and the check codes):
the JWS over the exact body bytes with the client's keys as read with its token, the signed
method and path, the age, and the single use of ``jti`` — one ``INSERT … ON CONFLICT DO NOTHING``
that the database decides, however many hub processes receive the same request. Expired
identifiers are purged now and then (at most once a minute per process, in the request's own
transaction), not on every request."""

from __future__ import annotations

import threading
import time
import uuid
from collections import OrderedDict
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import orjson
from sqlmodel import Session
from starlette.requests import Request

from hub.auth.models import SignedRequest
from hub.auth.repository import AuthRepository
from hub.auth.scopes import ClientKind
from hub.problems import BadRequest, HubError
from hub.settings import Settings
from schemas.jwk import JWKError, JWKSet
from schemas.jws import JWSError, verify_detached

if TYPE_CHECKING:
    from hub.auth.principal import Principal

SIGNATURE_HEADER = "Puhui-Signature"
MUST_SIGN = frozenset({ClientKind.PLATFORM, ClientKind.ADMIN})
PURGE_EVERY = 60.0


class SignatureRefused(HubError):
    status = 401
    slug = "request-signature"
    title = "The request signature is refused"


class ReplayRefused(HubError):
    status = 409
    slug = "replayed-request"
    title = "The request was already received"


class _ParsedKeys:
    """Parsed JWK Sets by content (a key set's bytes are its identity, so a change of keys in
    any process is a new entry, never a stale one); the most recent 256."""

    def __init__(self, size: int = 256) -> None:
        self.size = size
        self._lock = threading.Lock()
        self._sets: OrderedDict[bytes, JWKSet] = OrderedDict()

    def get(self, jwks: dict[str, Any]) -> JWKSet:
        content = orjson.dumps(jwks, option=orjson.OPT_SORT_KEYS)
        with self._lock:
            found = self._sets.get(content)
            if found is not None:
                self._sets.move_to_end(content)
                return found
        parsed = JWKSet.from_dict(jwks)
        with self._lock:
            self._sets[content] = parsed
            while len(self._sets) > self.size:
                self._sets.popitem(last=False)
        return parsed


class PurgeClock:
    """When this process last purged expired single-use identifiers."""

    def __init__(self) -> None:
        self._next = 0.0
        self._lock = threading.Lock()

    def due(self) -> bool:
        now = time.monotonic()
        with self._lock:
            if now < self._next:
                return False
            self._next = now + PURGE_EVERY
            return True


parsed_keys = _ParsedKeys()
purge_clock = PurgeClock()


def verify_received(
    request: Request, body: bytes, principal: Principal, session: Session, settings: Settings
) -> SignedRequest | None:
    """``verify_request`` of a request as received."""
    return verify_request(
        request.method,
        request.url.path,
        request.headers.get("content-type"),
        body,
        request.headers.get(SIGNATURE_HEADER),
        principal,
        session,
        settings,
    )


# the columns a signed request is kept in, exactly as received (signed_request.path, .content_type)
PATH_MAX_LENGTH = 500
CONTENT_TYPE_MAX_LENGTH = 200


def _fits_as_received(path: str, content_type: str | None) -> None:
    """A signed request is kept exactly as received: a path or content type longer than its
    column is refused (400, 1004) before the signature is checked or anything written."""
    for name, value, limit in (
        ("path", path, PATH_MAX_LENGTH),
        ("Content-Type", content_type or "", CONTENT_TYPE_MAX_LENGTH),
    ):
        if len(value) > limit:
            raise BadRequest(f"the {name} of a signed request is at most {limit} characters", code="1004")


def verify_request(
    method: str,
    path: str,
    content_type: str | None,
    body: bytes,
    token: str | None,
    principal: Principal,
    session: Session,
    settings: Settings,
) -> SignedRequest | None:
    """Verify and record a state-changing request's signature (None when it carries none and
    the client need not sign); raises ``SignatureRefused`` or ``ReplayRefused``."""
    if token is None:
        if principal.kind in MUST_SIGN:
            raise SignatureRefused(f"a {SIGNATURE_HEADER} header is required", code="1016")
        return None
    _fits_as_received(path, content_type)
    repository = AuthRepository(session)
    now = datetime.now(UTC)
    state = principal.state
    if state is not None:
        jwks = state.signing_keys(now)
    else:  # a principal made elsewhere: read the client's keys
        from hub.auth.keys import client_jwks

        found = repository.client_with_platform(principal.client_id)
        if found is None:
            raise SignatureRefused("the signing client is unknown", code="1012")
        jwks = client_jwks(found[0], found[1], now)
    try:
        verified = verify_detached(token, body, parsed_keys.get(jwks))
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
    if header.get("htm") != method or header.get("htu") != path:
        raise SignatureRefused(f"the signature is for {header.get('htm')} {header.get('htu')}", code="1019")
    expires = datetime.fromtimestamp(iat, UTC) + timedelta(seconds=2 * settings.clock_skew)
    values: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "client_id": principal.client_id,
        "platform_code": principal.platform_code,
        "method": method,
        "path": path,
        "content_type": content_type,
        "body": body,
        "jws": token,
        "kid": verified.kid,
        "jti": jti,
        "issued_at": datetime.fromtimestamp(iat, UTC),
        "received_at": now,
    }
    if not repository.record_request(values, expires):  # the jti was used: nothing was written
        earlier = repository.signed_request_by_jti(principal.client_id, jti)
        if earlier is not None and (earlier.method, earlier.path, earlier.body, earlier.jws) == (
            method,
            path,
            body,
            token,
        ):
            return earlier  # the identical request sent again: a retry, answered as the first was
        raise ReplayRefused(f"a request with jti {jti!r} was already received", code="1017")
    if purge_clock.due():
        repository.purge_nonces(now)
    # the stored row's values, as the route reads them (not attached to the session: the row is
    # written by one Core insert, and a model built this way skips re-validating what is built here)
    return SignedRequest.model_construct(**values)
