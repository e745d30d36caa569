"""Hub-to-hub requests: signed by the sending hub, verified with the keys its peering registered.

A request from a peer carries, in the ``Puhui-Hub-Signature`` header, a compact JWS (detached,
RFC 7515 Appendix F; EdDSA/Ed25519) over the RFC 8785 canonical bytes of its JSON body, with
``typ`` ``puhui-hub+jws`` and, in its protected header, ``iss`` (the sender's log origin), ``aud``
(the receiver's), ``iat`` (seconds), ``jti`` (unique per request, kept across the sender's retries),
``htm`` and ``htu`` (the method and path it was signed for). The receiver refuses: no signature or
one without these claims (401, 1060), an ``iss`` that is no registered peer (401, 1061), a bad
signature or unknown key (401, 1011/1012), another audience (401, 1062), another method or path
(401, 1019), an ``iat`` beyond the clock skew (401, 1018), and a suspended peer (403, 2020).

Replays are idempotent: the answer is stored under (peer, jti) in the transaction of its effect
(``hub.idempotency``); the identical request again gets that answer, another body under a seen
``jti`` is refused (409, 1017). A sender retrying signs again (a fresh ``iat``) with the same jti.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request, Response
from sqlmodel import Session

from hub.auth.signatures import ReplayRefused, SignatureRefused
from hub.deps import SessionDep, SettingsDep, blocking
from hub.idempotency.route import KeyReused, Retry, answer_once
from hub.keystore import KeyStore
from hub.peering.models import HubPeer, PeerStatus, jwks_of
from hub.peering.repository import PeerRepository
from hub.problems import HubError, MalformedBody
from hub.settings import Settings
from schemas.canonical import canonicalize
from schemas.jwk import JWKError
from schemas.jws import JWSError, sign_detached, verify_record

HUB_REQUEST_TYPE = "puhui-hub+jws"
HUB_SIGNATURE_HEADER = "Puhui-Hub-Signature"
CLAIMS = ("iss", "aud", "iat", "jti", "htm", "htu")
T = TypeVar("T")


class PeerSuspended(HubError):
    status = 403
    slug = "peer-suspended"
    title = "The peering with this hub is suspended"


def sign_hub_request(
    body: Any,
    keystore: KeyStore,
    *,
    issuer: str,
    audience: str,
    method: str,
    path: str,
    jti: str | None = None,
    iat: int | None = None,
) -> str:
    """The ``Puhui-Hub-Signature`` of a request with JSON ``body`` (sent as its canonical bytes)."""
    claims = {
        "iss": issuer,
        "aud": audience,
        "iat": int(time.time()) if iat is None else iat,
        "jti": jti or str(uuid.uuid4()),
        "htm": method.upper(),
        "htu": path,
    }
    return sign_detached(canonicalize(body), keystore.active(), typ=HUB_REQUEST_TYPE, headers=claims)


@dataclass(frozen=True)
class PeerRequest:
    """A verified request of a peer: the peer, the signed claims, the body."""

    peer: HubPeer
    header: dict[str, Any]
    body: Any
    fingerprint: str

    @property
    def jti(self) -> str:
        return str(self.header["jti"])

    @property
    def origin(self) -> str:
        return self.peer.origin


def _refused(detail: str, code: str) -> SignatureRefused:
    return SignatureRefused(
        detail,
        code=code,
        errors=[{"parameter": HUB_SIGNATURE_HEADER, "in": "header", "code": code, "detail": detail}],
    )


def _unverified_header(token: str | None) -> dict[str, Any]:
    if not token or token.count(".") != 2:
        raise _refused(f"a hub-to-hub request carries a detached JWS in {HUB_SIGNATURE_HEADER}", "1060")
    encoded = token.split(".", 1)[0]
    try:
        header = json.loads(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)))
    except (ValueError, UnicodeDecodeError) as exc:
        raise _refused("the signature's protected header is not base64url JSON", "1010") from exc
    if not isinstance(header, dict) or header.get("typ") != HUB_REQUEST_TYPE:
        raise _refused(f"the signature is not of type {HUB_REQUEST_TYPE}", "1060")
    missing = [claim for claim in CLAIMS if not isinstance(header.get(claim), int if claim == "iat" else str)]
    if missing or not 0 < len(header["jti"]) <= 128:
        raise _refused(
            f"the signature lacks the claims {', '.join(missing) or 'jti (1 to 128 characters)'}", "1060"
        )
    return header


def verify_hub_request(
    session: Session,
    settings: Settings,
    *,
    method: str,
    path: str,
    body: bytes,
    token: str | None,
    now: float | None = None,
) -> PeerRequest:
    """The verified request of a registered, active peer, or a refusal (see the module)."""
    claimed = _unverified_header(token)
    peer = PeerRepository(session).by_origin(claimed["iss"])
    if peer is None or peer.status == PeerStatus.REMOVED:
        raise _refused(f"{claimed['iss']} is not a peer of this hub", "1061")
    try:
        document = json.loads(body) if body else None
    except ValueError as exc:
        raise MalformedBody("the body is not JSON", code="1001") from exc
    try:
        verified = verify_record(str(token), jwks_of(peer), record=document)
    except JWSError as exc:
        raise _refused(exc.message, exc.code) from exc
    except JWKError as exc:  # a registered JWKS is checked; kept defensive
        raise _refused(str(exc), "1012") from exc
    header = verified.header
    if header["aud"] != settings.log_origin:
        raise _refused(f"the request is for {header['aud']}, not {settings.log_origin}", "1062")
    if header["htm"] != method.upper() or header["htu"] != path:
        raise _refused(f"signed for {header['htm']} {header['htu']}, sent as {method} {path}", "1019")
    moment = time.time() if now is None else now
    if abs(moment - header["iat"]) > settings.clock_skew:
        raise _refused(f"iat is more than {settings.clock_skew} s from the hub's clock", "1018")
    if peer.status == PeerStatus.SUSPENDED:
        raise PeerSuspended(f"the peering with {peer.origin} is suspended", code="2020")
    fingerprint = hashlib.sha256(f"{method.upper()} {path}\n".encode() + body).hexdigest()
    return PeerRequest(peer=peer, header=header, body=document, fingerprint=fingerprint)


async def peer_request(request: Request, session: SessionDep, settings: SettingsDep) -> PeerRequest:
    body = await request.body()
    token = request.headers.get(HUB_SIGNATURE_HEADER)
    method, path = request.method, request.url.path
    return await blocking(
        lambda: verify_hub_request(session, settings, method=method, path=path, body=body, token=token)
    )


PeerRequestDep = Annotated[PeerRequest, Depends(peer_request)]


def answer_peer_once(
    session: Session, received: PeerRequest, response: Response, run: Callable[[], T]
) -> Any:
    """``run()``'s answer, stored under (peer, jti) with its effect; a retry gets it again."""
    retry = Retry(
        client_id=f"hub:{received.peer.id}", key=f"jti:{received.jti}", fingerprint=received.fingerprint
    )
    try:
        return answer_once(session, retry, response, run)
    except KeyReused as exc:
        raise ReplayRefused(
            f"jti {received.jti} of {received.origin} was received with another request", code="1017"
        ) from exc
