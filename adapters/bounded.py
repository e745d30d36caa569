"""Reading an HTTP answer within bounds: the hub's workers call platforms, peers and witnesses one
after another in its own process, and an httpx timeout bounds each read, not the answer — an answer
that never ends fills the reader's memory, one that trickles a byte per read holds the worker (and
every call behind it) for as long as the other side likes. Shared by the platform clients
(:mod:`adapters.client`) and the hub's peer and witness clients."""

from __future__ import annotations

import time

import httpx


def read_bounded(response: httpx.Response, limit: int, deadline: float) -> bytes:
    """The body of a streamed ``response``: at most ``limit`` bytes, read by ``deadline`` (a
    ``time.monotonic()`` moment); past either, ``httpx.DecodingError`` (too large) or
    ``httpx.ReadTimeout`` (too slow)."""
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            raise httpx.DecodingError(f"the answer is over {limit} bytes")
        if time.monotonic() > deadline:
            raise httpx.ReadTimeout("the answer comes too slowly")
    return b"".join(chunks)
