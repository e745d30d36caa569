"""The httpx client of a platform's API, shared by the adapters and described per platform by a
:class:`ClientSpec` (paths, cursor, local field names of the JSON bodies).

Every failure becomes a :class:`~adapters.contract.PlatformAPIError`: network errors, timeouts and
5xx answers are :class:`PlatformUnreachable` (retryable), 4xx answers :class:`PlatformRefused`, and
a 2xx answer that is not the platform's format :class:`PlatformMalformedAnswer`. State-changing
calls take an ``idempotency_key`` (the hub's saga passes one per transfer step, e.g.
``idempotency_key_for("lock", transfer_id)``) sent as ``Idempotency-Key``, so that a retry is safe;
a retirement notice is keyed by its retirement id by default.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import httpx

from adapters.contract import (
    ParseResult,
    PlatformMalformedAnswer,
    PlatformRefused,
    PlatformUnreachable,
)
from adapters.privacy import Pseudonymizer

if TYPE_CHECKING:
    from adapters.base import BaseAdapter


@dataclass(frozen=True, slots=True)
class ClientSpec:
    """How a platform's API is laid out.

    ``fields`` names, in the platform's terms, the members of the JSON bodies of lock, unlock and
    retirement notices: keys ``block_id``, ``serial_start``, ``serial_end``, ``quantity``,
    ``retirement_id``, ``purpose``, ``retired_at``, ``blocks``.
    """

    issuances_path: str
    cursor_param: str
    cursor_header: str
    lock_path: str
    unlock_path: str
    import_path: str
    retirement_path: str
    fields: Mapping[str, str]

    def block_body(self, block: Mapping[str, Any]) -> dict[str, Any]:
        names = self.fields
        return {
            names["block_id"]: block["block_id"],
            names["serial_start"]: block["serial_start"],
            names["serial_end"]: block["serial_end"],
            names["quantity"]: block["quantity"],
        }

    def retirement_body(self, retirement: Mapping[str, Any]) -> dict[str, Any]:
        names = self.fields
        return {
            names["retirement_id"]: retirement["retirement_id"],
            names["purpose"]: retirement["purpose"]["kind"],
            names["quantity"]: retirement["quantity"],
            names["retired_at"]: retirement["retired_at"],
            names["blocks"]: [
                {
                    names["block_id"]: item.get("block_id"),
                    names["serial_start"]: item["start"],
                    names["serial_end"]: item["end"],
                    names["quantity"]: item["quantity"],
                }
                for item in retirement["blocks"]
            ],
        }


def idempotency_key_for(operation: str, *parts: object) -> str:
    """A stable key for one operation on one object, e.g. ``("lock", transfer_id)``: the same
    request retried carries the same key, and the platform answers it once."""
    text = "\x1f".join([operation, *(str(part) for part in parts)])
    return hashlib.sha256(text.encode()).hexdigest()[:32]


class HttpPlatformAPI:
    """:class:`~adapters.contract.PlatformAPI` over httpx for one adapter's platform."""

    def __init__(
        self,
        adapter: BaseAdapter,
        base_url: str,
        transport: httpx.BaseTransport | None = None,
        *,
        pseudonymizer: Pseudonymizer | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.adapter = adapter
        self.spec = adapter.spec
        self.pseudonymizer = pseudonymizer
        self.http = httpx.Client(base_url=base_url.rstrip("/"), transport=transport, timeout=timeout)

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> HttpPlatformAPI:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        code = self.adapter.code
        try:
            response = self.http.request(method, path, **kwargs)
        except httpx.TimeoutException as exc:
            raise PlatformUnreachable(code, f"timed out: {exc}") from exc
        except httpx.TransportError as exc:
            raise PlatformUnreachable(code, f"unreachable: {exc}") from exc
        if response.status_code >= 500:
            raise PlatformUnreachable(code, f"failed with {response.status_code}", response.status_code)
        if response.status_code >= 400:
            try:
                body: Any = response.json()
            except ValueError:
                body = response.text[:500]
            raise PlatformRefused(code, response.status_code, body)
        if not 200 <= response.status_code < 300:
            raise PlatformMalformedAnswer(code, f"unexpected status {response.status_code}")
        return response

    def _acknowledged(self, response: httpx.Response) -> dict[str, Any]:
        try:
            body = response.json()
        except ValueError as exc:
            raise PlatformMalformedAnswer(self.adapter.code, "the answer is not JSON") from exc
        if not isinstance(body, dict):
            raise PlatformMalformedAnswer(self.adapter.code, "the answer is not a JSON object")
        return body

    def issuances_since(self, cursor: str | None) -> tuple[ParseResult, str]:
        """Exchange records of the next page after ``cursor`` and the cursor that follows it."""
        if self.pseudonymizer is None:
            raise ValueError("fetching issuances needs a pseudonymizer (client(..., pseudonymizer=))")
        params = {self.spec.cursor_param: cursor} if cursor is not None else {}
        response = self._send("GET", self.spec.issuances_path, params=params)
        next_cursor = response.headers.get(self.spec.cursor_header)
        if not next_cursor:
            raise PlatformMalformedAnswer(self.adapter.code, f"the answer has no {self.spec.cursor_header}")
        result = self.adapter.parse(
            response.content,
            content_type=response.headers.get("content-type"),
            pseudonymizer=self.pseudonymizer,
        )
        if not result.ok:
            raise PlatformMalformedAnswer(
                self.adapter.code, f"the issuances do not parse ({len(result.errors)} errors)", result.errors
            )
        return result, next_cursor

    def _headers(self, idempotency_key: str | None, **extra: str) -> dict[str, str]:
        return {**extra, "Idempotency-Key": idempotency_key} if idempotency_key else extra

    def _block_call(self, path: str, block: Mapping[str, Any], idempotency_key: str | None) -> None:
        self._acknowledged(
            self._send(
                "POST",
                path.format(block_id=quote(str(block["block_id"]), safe="")),
                json=self.spec.block_body(block),
                headers=self._headers(idempotency_key),
            )
        )

    def lock(self, block: Mapping[str, Any], *, idempotency_key: str | None = None) -> None:
        self._block_call(self.spec.lock_path, block, idempotency_key)

    def unlock(self, block: Mapping[str, Any], *, idempotency_key: str | None = None) -> None:
        self._block_call(self.spec.unlock_path, block, idempotency_key)

    def credit_import(self, block: Mapping[str, Any], *, idempotency_key: str | None = None) -> None:
        headers = self._headers(idempotency_key, **{"Content-Type": self.adapter.media_types[0]})
        self._acknowledged(
            self._send("POST", self.spec.import_path, content=self.adapter.render(block), headers=headers)
        )

    def notify_retirement(self, retirement: Mapping[str, Any], *, idempotency_key: str | None = None) -> None:
        self._acknowledged(
            self._send(
                "POST",
                self.spec.retirement_path,
                json=self.spec.retirement_body(retirement),
                headers=self._headers(
                    idempotency_key or idempotency_key_for("retirement", retirement["retirement_id"])
                ),
            )
        )
