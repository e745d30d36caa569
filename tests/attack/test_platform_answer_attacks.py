"""The attacker's pass over the platform clients the batched workers call (issue #14): a platform's
answer — to a single call, a lock batch, a notice batch — that never ends, trickles, or nests past
the parser's depth fails the call (for now: it is tried again, same key) without filling the
hub's memory, holding its worker, or escaping as a fault of the hub's side."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from adapters.client import MAX_ANSWER
from adapters.contract import PlatformAPIError, PlatformMalformedAnswer, PlatformUnreachable
from adapters.registry import get

BLOCK = {"block_id": "JS-B-1", "serial_start": 1, "serial_end": 10, "quantity": 10}
NOTICE = {
    "transfer_id": "TR-1",
    "destination": "SH",
    "completed_at": "2026-12-01T00:00:00Z",
    "blocks": [BLOCK],
}
CHUNK = 1 << 20


@dataclass(frozen=True)
class Body:
    name: str
    chunks: Callable[[], Iterator[bytes]]
    step: int  # seconds of the fake clock per look at it (0: the clock stands still)
    error: type[PlatformAPIError]


def endless() -> Iterator[bytes]:
    yield b'{"results": ['
    while True:
        yield b" " * CHUNK


def trickling() -> Iterator[bytes]:
    while True:
        yield b" "


def nested() -> Iterator[bytes]:
    yield b'{"results": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"


BODIES = [
    # finding: the client read a platform's answer whole — one streaming without end filled the
    # memory of the hub's process (the transfer and notice workers run in it)
    Body("endless", endless, 0, PlatformUnreachable),
    # finding: httpx's timeout bounds each read, not the answer — a platform trickling a byte per
    # read held the transfer worker (or the notice worker), every other platform's calls behind it
    Body("trickling", trickling, 1, PlatformUnreachable),
    # finding: an answer nested past the parser's depth raised RecursionError out of the client: a
    # notice batch so answered was taken for a fault of the hub's side and sent again notice by
    # notice (the batch's notices acknowledged by single calls the platform never answered so)
    Body("nested", nested, 0, PlatformMalformedAnswer),
]

CALLS: dict[str, Callable[[Any], Any]] = {
    "single lock": lambda client: client.lock(BLOCK, idempotency_key="k-1"),
    "lock batch": lambda client: client.lock_many([(BLOCK, "k-1"), (BLOCK, "k-2")]),
    "notice batch": lambda client: client.notify_transfer_completed_many([(NOTICE, "k-1"), (NOTICE, "k-2")]),
}


@pytest.mark.parametrize("call", sorted(CALLS))
@pytest.mark.parametrize("body", BODIES, ids=[body.name for body in BODIES])
def test_an_endless_trickling_or_nested_answer_fails_the_call_within_bounds(
    body: Body, call: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = iter(range(0, 10**9, body.step or 1))
    monkeypatch.setattr(time, "monotonic", lambda: float(next(clock)) if body.step else 0.0)
    sent: list[int] = []
    asked: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        asked.append(request.url.path)

        def stream() -> Iterator[bytes]:
            for chunk in body.chunks():
                sent.append(len(chunk))
                yield chunk

        return httpx.Response(200, content=stream())

    client = get("JS").client("http://js.test", httpx.MockTransport(answer), timeout=5.0)
    try:
        try:
            outcomes = CALLS[call](client)
        except PlatformAPIError as exc:  # a single call, a lock batch: raised
            outcomes = [exc]
    finally:
        client.close()
    assert len(asked) == 1, asked  # the batch not sent again call by call
    assert outcomes and all(isinstance(outcome, PlatformAPIError) for outcome in outcomes), outcomes
    if call == "notice batch":  # a notice batch's answer not told per notice: tried again, each
        assert all(outcome.retryable for outcome in outcomes), outcomes
    else:
        assert all(isinstance(outcome, body.error) for outcome in outcomes), outcomes
    assert sum(sent) <= MAX_ANSWER + CHUNK + 20  # read no further than the cap
    assert len(sent) <= 2 * 5 + 2 or body.step == 0  # nor longer than twice the timeout
