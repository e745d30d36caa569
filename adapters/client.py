"""The httpx client of a platform's API, shared by the adapters and described per platform by a
:class:`ClientSpec` (paths, cursor, local field names of the JSON bodies).

Every failure becomes a :class:`~adapters.contract.PlatformAPIError`: network errors, timeouts and
5xx answers are :class:`PlatformUnreachable` (retryable), 4xx answers :class:`PlatformRefused`, and
a 2xx answer that is not the platform's format :class:`PlatformMalformedAnswer`. State-changing
calls take an ``idempotency_key`` (the hub's saga passes one per transfer step, e.g.
``idempotency_key_for("lock", transfer_id)``) sent as ``Idempotency-Key``, so that a retry is safe;
a retirement notice is keyed by its retirement id by default, a transfer-completed notice by its
transfer id. The calls, their canonical form and their semantics: :mod:`adapters.platform_api`.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import httpx

from adapters.bounded import read_bounded
from adapters.contract import (
    AdapterError,
    CallOutcome,
    ParseResult,
    PlatformAPIError,
    PlatformMalformedAnswer,
    PlatformRefused,
    PlatformUnreachable,
)
from adapters.privacy import Pseudonymizer

if TYPE_CHECKING:
    from adapters.base import BaseAdapter

# Answers the hub tries again (same key, same body): the platform failed or asked for time.
RETRYABLE_STATUSES = frozenset({408, 425, 429})
# Where a platform takes transfer-completed notices (one, many) unless its spec says otherwise.
TRANSFER_NOTICE_PATH = "/puhui/v1/notices/transfer-completed"
TRANSFER_NOTICE_BATCH_PATH = "/puhui/v1/batches/notices/transfer-completed"
# The most of a platform's answer the client reads (the largest: a page of issuances in its format).
MAX_ANSWER = 64 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class ClientSpec:
    """How a platform's API is laid out.

    ``fields`` names, in the platform's terms, the members of the JSON bodies of lock, unlock and
    retirement notices: keys ``block_id``, ``serial_start``, ``serial_end``, ``quantity``,
    ``retirement_id``, ``purpose``, ``retired_at``, ``blocks`` (and of transfer-completed notices,
    ``transfer_id``, ``destination``, ``completed_at``: their canonical names unless given).

    ``lock_batch_path``, ``unlock_batch_path``, ``import_batch_path`` and
    ``transfer_notice_batch_path`` are the platform's batch routes (None: it has none; its client
    then makes one call per item). A batch carries many calls in one request, each with its own
    idempotency key, and is answered per call::

        POST <lock_batch_path>    {"items": [{"idempotency_key": K, <block body>}, ...]}
        POST <import_batch_path>  {"items": [{"idempotency_key": K, "content_type": T,
                                              "payload_base64": <the local payload>}, ...]}
        POST <transfer_notice_batch_path>  {"items": [{"idempotency_key": K, <notice body>}, ...]}
        200 {"results": [{"status": 200, "body": {...}}, ...]}   (one per item, in order)

    Each item is answered as its single call would have been, and its key replays its answer. A
    result may name its item's ``idempotency_key``; one naming another item's key (or a key twice)
    answers nothing for its item (:meth:`HttpPlatformAPI._outcomes`).
    """

    issuances_path: str
    cursor_param: str
    cursor_header: str
    lock_path: str
    unlock_path: str
    import_path: str
    retirement_path: str
    fields: Mapping[str, str]
    lock_batch_path: str | None = None
    unlock_batch_path: str | None = None
    import_batch_path: str | None = None
    transfer_notice_path: str = TRANSFER_NOTICE_PATH
    transfer_notice_batch_path: str | None = TRANSFER_NOTICE_BATCH_PATH

    def name(self, canonical: str) -> str:
        """The platform's name of a canonical field (the canonical name where it keeps it)."""
        return self.fields.get(canonical, canonical)

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
        retiring = {self.name("registry"): retirement["registry"]} if "registry" in retirement else {}
        return {
            **retiring,
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

    def transfer_notice_body(self, notice: Mapping[str, Any]) -> dict[str, Any]:
        """A transfer-completed notice: ``transfer_id``, ``destination``, ``completed_at`` and the
        exported ``blocks`` (block records: block_id, serial_start, serial_end, quantity)."""
        return {
            self.name("transfer_id"): notice["transfer_id"],
            self.name("destination"): notice["destination"],
            self.name("completed_at"): notice["completed_at"],
            self.name("blocks"): [self.block_body(block) for block in notice["blocks"]],
        }


def idempotency_key_for(operation: str, *parts: object) -> str:
    """A stable key for one operation on one object, e.g. ``("lock", transfer_id)``: the same
    request retried carries the same key, and the platform answers it once."""
    text = "\x1f".join([operation, *(str(part) for part in parts)])
    return hashlib.sha256(text.encode()).hexdigest()[:32]


# One call of a batch: the block (an exchange record) and its idempotency key.
Call = tuple[Mapping[str, Any], str]
Outcome = CallOutcome
LACKING = frozenset({404, 405, 501})  # a batch route's answer when the platform has no such route
ASK_AGAIN = 600.0  # seconds a batch route answered so is taken as lacking (the platform may add it)


def call_each(single: Callable[..., None], calls: Sequence[Call]) -> list[Outcome]:
    """A batch made of single calls (for a platform, or a client, that has no batch route): each
    call's failure is its own outcome; a fault of the hub itself is raised."""
    outcomes: list[Outcome] = []
    for block, key in calls:
        try:
            single(block, idempotency_key=key)
        except (AdapterError, PlatformAPIError) as exc:
            outcomes.append(exc)
        else:
            outcomes.append(None)
    return outcomes


@dataclass(frozen=True, slots=True)
class Answer:
    """A platform's answer, its body read whole (within bounds: :meth:`HttpPlatformAPI._send`)."""

    status_code: int
    headers: httpx.Headers
    content: bytes

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")

    def json(self) -> Any:
        """The body's JSON; ``ValueError`` when it is not JSON (nested past the parser's depth
        included: a ``RecursionError`` is no answer's to raise)."""
        try:
            return json.loads(self.content)
        except RecursionError as exc:
            raise ValueError("the answer is nested too deeply") from exc


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
        self.timeout = timeout
        self.http = httpx.Client(base_url=base_url.rstrip("/"), transport=transport, timeout=timeout)
        # the batch routes the platform answered 404 (or 405, 501) to, each until it is asked again
        # (a time.monotonic() moment): the workers keep their clients, and the platform may add it
        self.lacking: dict[str, float] = {}

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> HttpPlatformAPI:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _send(self, method: str, path: str, **kwargs: Any) -> Answer:
        """The platform's answer, read within bounds: at most ``MAX_ANSWER`` bytes within twice the
        timeout in all (:func:`~adapters.bounded.read_bounded`); one beyond them failed (the
        platform is unreachable for now)."""
        code = self.adapter.code
        try:
            with self.http.stream(method, path, **kwargs) as streamed:
                content = read_bounded(streamed, MAX_ANSWER, time.monotonic() + 2 * self.timeout)
        except httpx.TimeoutException as exc:
            raise PlatformUnreachable(code, f"timed out: {exc}") from exc
        except (httpx.TransportError, httpx.DecodingError) as exc:
            raise PlatformUnreachable(code, f"unreachable: {exc}") from exc
        response = Answer(streamed.status_code, streamed.headers, content)
        if response.status_code >= 500 or response.status_code in RETRYABLE_STATUSES:
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

    def _acknowledged(self, response: Answer) -> dict[str, Any]:
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

    def notify_transfer_completed(
        self, notice: Mapping[str, Any], *, idempotency_key: str | None = None
    ) -> None:
        """Tell the origin that the serials it locked for a transfer are credited at the
        destination: it finalizes their export."""
        self._acknowledged(
            self._send(
                "POST",
                self.spec.transfer_notice_path,
                json=self.spec.transfer_notice_body(notice),
                headers=self._headers(
                    idempotency_key or idempotency_key_for("transfer-completed", notice["transfer_id"])
                ),
            )
        )

    # -- batches: many calls in one request, answered per call ---------------------------------

    def notify_transfer_completed_many(self, calls: Sequence[Call]) -> list[Outcome]:
        """Many transfer-completed notices in one request, each with its own key; one outcome per
        notice. An answer that cannot be matched to the notices (not JSON, not one result per
        notice) acknowledges none of them, and a result naming another notice's key (or without a
        status) acknowledges none of its notice: each such notice fails retryably (sent again
        later, same key)."""
        items = [{"idempotency_key": key, **self.spec.transfer_notice_body(notice)} for notice, key in calls]
        return self._batch(
            self.spec.transfer_notice_batch_path,
            items,
            calls,
            self.notify_transfer_completed,
            unmatched_retryable=True,
        )

    def lock_many(self, calls: Sequence[Call]) -> list[Outcome]:
        """Lock many blocks; one outcome per call (see :class:`ClientSpec`)."""
        items = [{"idempotency_key": key, **self.spec.block_body(block)} for block, key in calls]
        return self._batch(self.spec.lock_batch_path, items, calls, self.lock)

    def unlock_many(self, calls: Sequence[Call]) -> list[Outcome]:
        items = [{"idempotency_key": key, **self.spec.block_body(block)} for block, key in calls]
        return self._batch(self.spec.unlock_batch_path, items, calls, self.unlock)

    def credit_import_many(self, calls: Sequence[Call]) -> list[Outcome]:
        """Credit many blocks; a block the platform's format cannot carry fails alone (its
        :class:`~adapters.contract.RenderError`), the others are sent."""
        media = self.adapter.media_types[0]
        outcomes: list[Outcome] = [None] * len(calls)
        items: list[dict[str, Any]] = []
        sent: list[int] = []
        for position, (block, key) in enumerate(calls):
            try:
                payload = self.adapter.render(block)
            except AdapterError as exc:
                outcomes[position] = exc
                continue
            encoded = base64.b64encode(payload).decode("ascii")
            items.append({"idempotency_key": key, "content_type": media, "payload_base64": encoded})
            sent.append(position)
        answered = self._batch(
            self.spec.import_batch_path, items, [calls[n] for n in sent], self.credit_import
        )
        for position, outcome in zip(sent, answered, strict=True):
            outcomes[position] = outcome
        return outcomes

    def _batch(
        self,
        path: str | None,
        items: list[dict[str, Any]],
        calls: Sequence[Call],
        single: Callable[..., None],
        *,
        unmatched_retryable: bool = False,
    ) -> list[Outcome]:
        if not calls:
            return []
        if path is None or self.lacking.get(path, -math.inf) > time.monotonic():
            return call_each(single, calls)
        try:
            response = self._send("POST", path, json={"items": items})
        except PlatformRefused as exc:
            if exc.status in LACKING:  # no batch route there: single calls for ASK_AGAIN seconds
                self.lacking[path] = time.monotonic() + ASK_AGAIN
            # a refusal of the batch as a whole (too large, an item it could not take…) is no
            # call's answer: this one call by call, each answered on its own
            return call_each(single, calls)
        except PlatformAPIError as exc:  # the whole batch failed: every call did
            return [exc] * len(calls)
        self.lacking.pop(path, None)
        try:
            results = self._acknowledged(response).get("results")
        except PlatformMalformedAnswer as exc:
            if not unmatched_retryable:  # lock, unlock, credit: raised, as it always was
                raise
            return [self._unmatched(exc.message, unmatched_retryable)] * len(calls)
        if not isinstance(results, list) or len(results) != len(calls):
            message = f"a batch of {len(calls)} calls is not answered per call"
            return [self._unmatched(message, unmatched_retryable)] * len(calls)
        return self._outcomes(results, [key for _, key in calls], unmatched_retryable)

    def _unmatched(self, message: str, retryable: bool) -> PlatformAPIError:
        """The failure of a call whose answer cannot be told (a batch not answered per call, a
        result naming another call's key or without a status): malformed (final), or, where
        ``retryable``, failed for now (the call is made again, same key)."""
        if retryable:
            return PlatformUnreachable(self.adapter.code, f"malformed batch answer: {message}")
        return PlatformMalformedAnswer(self.adapter.code, message)

    def _outcomes(self, results: list[Any], keys: list[str], unmatched_retryable: bool) -> list[Outcome]:
        """Each call's outcome from its result (same position). A result that names an
        ``idempotency_key`` must name its own call's: one naming another (a result moved), every
        result naming a key that two results name, and one without an integer status answer
        nothing for their calls (:meth:`_unmatched`), never done."""
        named = [result.get("idempotency_key") if isinstance(result, dict) else None for result in results]
        counted = Counter(name for name in named if isinstance(name, str))
        outcomes: list[Outcome] = []
        for result, key, name in zip(results, keys, named, strict=True):
            if name is not None and (name != key or counted[name] > 1):
                outcomes.append(self._unmatched("a result names another call's key", unmatched_retryable))
            elif (
                not isinstance(result, dict)
                or not isinstance(result.get("status"), int)
                or isinstance(result["status"], bool)
            ):
                outcomes.append(self._unmatched("a result has no status", unmatched_retryable))
            else:
                outcomes.append(self._outcome(result["status"], result.get("body")))
        return outcomes

    def _outcome(self, status: int, body: Any) -> Outcome:
        """The outcome of one call of a batch answered ``status`` and ``body``, as its single
        call's answer would have been."""
        code = self.adapter.code
        if status >= 500 or status in RETRYABLE_STATUSES:
            return PlatformUnreachable(code, f"failed with {status}", status)
        if status >= 400:
            return PlatformRefused(code, status, body)
        if not 200 <= status < 300 or not isinstance(body, dict):
            return PlatformMalformedAnswer(code, f"a batch result is {status} without a JSON object")
        return None
