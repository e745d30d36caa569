"""Safe retries for every state-changing route, after the IETF ``Idempotency-Key`` draft.

A request is keyed by its ``Idempotency-Key`` header or, when it has none but is signed, by its
signature's ``jti`` (a platform re-sending the identical signed request after a lost answer is
retrying, not replaying). Under a key, per client:

- the first request runs; its answer is stored **in the same transaction as its effect** (both
  commit, or neither — a crash never leaves an effect without its answer, nor an answer without
  its effect);
- the same key with the same method, path and body gets the stored answer again (same body,
  ``Idempotent-Replayed: true``), and nothing happens again;
- the same key with another method, path or body is refused: 422, ``6004``, nothing changes;
- a request under a key whose first request is still running is refused for now: 409, ``6005``,
  ``Retry-After: 1`` (a try-lock on the client and key; on SQLite, writers run one at a time, so
  the copy runs after the first and gets its answer).

Answers are kept 24 hours (expired ones are purged at most once a minute per process), in the
database, so every hub process sees them. A refused request (4xx, 5xx) stores nothing: nothing
happened, and sending it again runs it again. Routes keyed by their own records (transfers and
transfer batches) keep their own idempotency with the same semantics. A key is 1 to 200
characters, none a control character (:func:`checked_key`, for every route): 400, ``1004``.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import inspect
import json
import re
import typing
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request, Response
from fastapi.encoders import jsonable_encoder
from sqlmodel import Session

from hub.auth.principal import CurrentPrincipal
from hub.auth.signatures import SIGNATURE_HEADER, PurgeClock
from hub.idempotency.repository import IdempotencyRepository
from hub.problems import BadRequest, HubError

KEY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
KEPT = timedelta(hours=24)
IDEMPOTENT = "puhui_idempotent"
T = TypeVar("T")
_KEY = re.compile(r"[^\x00-\x1f\x7f]{1,200}")


def checked_key(key: str | None) -> str | None:
    """The request's ``Idempotency-Key`` (None: it has none): 1 to 200 characters, no control
    character — a NUL cannot be stored on PostgreSQL (the request was a 500 there, stored on
    SQLite), and the unit separator marks the keys the hub derives for a batch's transfers
    (``hub.transfers.batches.item_key``), which a client's key must never meet. Else 400, 1004,
    naming the header."""
    if key is None or _KEY.fullmatch(key):
        return key
    detail = f"an {KEY_HEADER} is 1 to 200 characters, none a control character"
    issue = {"parameter": KEY_HEADER, "in": "header", "code": "1004", "detail": detail}
    raise BadRequest(detail, code="1004", errors=[issue])


class InFlight(HubError):
    status = 409
    slug = "request-in-flight"
    title = "The first request under this Idempotency-Key is still being processed"


class KeyReused(HubError):
    status = 422
    slug = "idempotency-key-reused"
    title = "The Idempotency-Key was used with another request"


@dataclass(frozen=True)
class Retry:
    """How a request is keyed: ``key`` None when it carries neither a key nor a signature."""

    client_id: str
    key: str | None
    fingerprint: str


def _jti(signature: str | None) -> str | None:
    """The ``jti`` of a detached JWS's protected header (verified by the signature check that
    runs before the route; read here only to key the request)."""
    if not signature or "." not in signature:
        return None
    encoded = signature.split(".", 1)[0]
    try:
        header = json.loads(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)))
    except (ValueError, UnicodeDecodeError):
        return None
    jti = header.get("jti") if isinstance(header, dict) else None
    return jti if isinstance(jti, str) and 0 < len(jti) <= 128 else None


async def retry_of(request: Request, principal: CurrentPrincipal) -> Retry:
    header = checked_key(request.headers.get(KEY_HEADER))
    body = await request.body()
    fingerprint = hashlib.sha256(f"{request.method} {request.url.path}\n".encode() + body).hexdigest()
    if header:
        return Retry(principal.client_id, f"key:{header}", fingerprint)
    jti = _jti(request.headers.get(SIGNATURE_HEADER))
    return Retry(principal.client_id, f"jti:{jti}" if jti else None, fingerprint)


RetryDep = Annotated[Retry, Depends(retry_of)]


purge_clock = PurgeClock()  # this process's own clock: answers purged at most once a minute


def answer_once(session: Session, retry: Retry, response: Response, run: Callable[[], T]) -> Any:
    """``run()``'s answer, or the stored answer of the first request under ``retry``'s key."""
    if retry.key is None:
        return run()
    store = IdempotencyRepository(session)
    if not store.take(retry.client_id, retry.key):
        raise InFlight(
            "the first request under this key is still being processed: send it again in a moment",
            code="6005",
            headers={"Retry-After": "1"},
        )
    now = datetime.now(UTC)
    found = store.find(retry.client_id, retry.key, now)
    if found is not None:
        if found.fingerprint != retry.fingerprint:
            raise KeyReused(
                "this key was used with another method, path or body; use a new key for a new request",
                code="6004",
            )
        response.headers[REPLAYED_HEADER] = "true"
        return store.answer_of(found)
    result = run()
    store.keep(retry.client_id, retry.key, retry.fingerprint, jsonable_encoder(result), now + KEPT)
    if purge_clock.due():
        store.purge(now)
    return result


def idempotent(endpoint: Callable[..., T]) -> Callable[..., Any]:
    """A synchronous state-changing route (with a ``session``) made safe to retry."""
    hints = typing.get_type_hints(endpoint, include_extras=True)
    signature = inspect.signature(endpoint)
    if "session" not in signature.parameters:
        raise TypeError(f"{endpoint.__name__}: an idempotent route stores its answer in its session")
    parameters = [
        p.replace(annotation=hints.get(p.name, p.annotation)) for p in signature.parameters.values()
    ]
    # FastAPI hands a route one Response: the route's own, when it takes one
    own = next((p.name for p in parameters if p.annotation is Response), None)
    keyword = inspect.Parameter.KEYWORD_ONLY
    parameters.append(inspect.Parameter("idempotent_retry", keyword, annotation=RetryDep))
    if own is None:
        parameters.append(inspect.Parameter("idempotent_response", keyword, annotation=Response))

    @functools.wraps(endpoint)
    def route(*args: Any, idempotent_retry: Retry, **kwargs: Any) -> Any:
        response = kwargs[own] if own is not None else kwargs.pop("idempotent_response")
        return answer_once(kwargs["session"], idempotent_retry, response, lambda: endpoint(*args, **kwargs))

    route.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=parameters, return_annotation=hints.get("return", signature.return_annotation)
    )
    setattr(route, IDEMPOTENT, True)
    return route
