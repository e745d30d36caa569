"""The client of hub-to-hub requests (httpx; a pluggable transport lets tests run two hubs'
ASGI apps in one process) and of a hub's public identity."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx

from adapters.bounded import read_bounded
from hub.keystore import KeyStore
from hub.peering.requests import HUB_SIGNATURE_HEADER, sign_hub_request
from schemas.canonical import canonicalize

RETRYABLE = frozenset({408, 425, 429})
MAX_ANSWER = 4 * 1024 * 1024  # a peer's JSON answer (its requests are capped by max_body_bytes)


class PeerCallFailed(Exception):
    """A peer's answer that is not a success: ``retryable`` for a network fault or a 5xx (or
    408, 425, 429); otherwise the peer refused (its problem in ``problem``)."""

    def __init__(self, message: str, *, status: int | None, retryable: bool, problem: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.retryable = retryable
        self.problem = problem


class PeerClient:
    """Signed requests from this hub (``issuer``: its log origin) to one peer."""

    def __init__(
        self,
        base_url: str,
        *,
        issuer: str,
        audience: str,
        keystore: KeyStore,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.issuer = issuer
        self.audience = audience
        self.keystore = keystore
        self.timeout = timeout
        self.http = httpx.Client(base_url=base_url.rstrip("/"), transport=transport, timeout=timeout)
        self.prefix = httpx.URL(base_url.rstrip("/")).path.rstrip("/")

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> PeerClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def post(self, path: str, body: Any, *, jti: str) -> dict[str, Any]:
        """POST ``body`` (canonical JSON) to ``path``, signed under ``jti``; the JSON answer."""
        signature = sign_hub_request(
            body,
            self.keystore,
            issuer=self.issuer,
            audience=self.audience,
            method="POST",
            path=self.prefix + path,
            jti=jti,
        )
        try:
            with self.http.stream(
                "POST",
                path,
                content=canonicalize(body),
                headers={"content-type": "application/json", HUB_SIGNATURE_HEADER: signature},
            ) as response:
                data = read_capped(response, self.timeout)
        except httpx.HTTPError as exc:
            raise PeerCallFailed(
                f"{self.audience} unreachable: {exc!r}", status=None, retryable=True
            ) from exc
        return answer_of(response, self.audience, data)


def read_capped(response: httpx.Response, timeout: float) -> bytes:
    """A peer's answer: at most ``MAX_ANSWER`` bytes within twice the timeout in all (the workers
    run in the hub's process, one message after another: an endless or trickling answer must
    neither fill its memory nor hold the other peers' messages)."""
    return read_bounded(response, MAX_ANSWER, time.monotonic() + 2 * timeout)


def answer_of(response: httpx.Response, who: str, data: bytes | None = None) -> dict[str, Any]:
    content = response.content if data is None else data
    try:
        answer = json.loads(content)
    except (ValueError, RecursionError):  # not JSON, or nested past the parser's depth
        answer = None
    if response.is_success and isinstance(answer, dict):
        return answer
    retryable = response.status_code >= 500 or response.status_code in RETRYABLE
    detail = answer.get("detail") if isinstance(answer, dict) else content.decode("utf-8", "replace")[:200]
    raise PeerCallFailed(
        f"{who} answered {response.status_code}: {detail}",
        status=response.status_code,
        retryable=retryable or response.is_success,
        problem=answer,
    )


def fetch_identity(base_url: str, *, transport: httpx.BaseTransport | None = None) -> dict[str, Any]:
    """The public identity of the hub at ``base_url`` (``GET /v1/hub``)."""
    with httpx.Client(base_url=base_url.rstrip("/"), transport=transport, timeout=10.0) as http:
        try:
            with http.stream("GET", "/v1/hub") as response:
                data = read_capped(response, 10.0)
        except httpx.HTTPError as exc:
            raise PeerCallFailed(f"{base_url} unreachable: {exc!r}", status=None, retryable=True) from exc
        return answer_of(response, base_url, data)
