"""Single signed transfer proposals (``POST /v1/transfers``, one transfer per signed request),
beside the raw primitives of the same run: the same requests' rate against a bare FastAPI app
whose one route verifies the detached JWS over the body (the ceiling of "one signed request"),
and a single-row insert transaction on the same database (the ceiling of "one write").

    .venv/bin/python -m bench.proposal                                # SQLite, 1,000 proposals
    .venv/bin/python -m bench.proposal --postgres postgresql+psycopg://postgres@127.0.0.1:5432/puhui_bench

Requests are built and signed before the clock starts and sent through httpx's ASGI transport
(no sockets) by ``--concurrency`` tasks on one event loop; the hub's blocking work runs in its
thread pool as under uvicorn. CPU is the process's (every thread's) CPU time per request,
client included, measured the same way for the raw app; the client's share (httpx building the
request, the ASGI transport, reading the answer: the same requests sent to an app that answers
each with a stored copy of the hub's answer) is measured too and printed, and the hub's own share
is the difference. Signing happens before the clock starts: it is in no figure. Also printed: the
thread-pool hops one proposal takes. Target (DESIGN.md §8): ≥ 250/s and ≤ 4 ms CPU each on SQLite, ≥ 150/s on
PostgreSQL.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio.to_thread
import httpx
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient
from sqlalchemy import text

from bench.databases import bench_database
from bench.timing import rate
from bench.transfer import prepare, transfer_body
from hub.app import create_app
from hub.client import PlatformClient
from hub.database import Database
from schemas.jwk import Ed25519Key
from schemas.jws import sign_detached, verify_detached

PATH = "/v1/transfers"


@dataclass(frozen=True)
class Prepared:
    body: bytes
    headers: dict[str, str]


@dataclass(frozen=True)
class Run:
    per_second: float
    cpu_ms: float


def signed_requests(blocks: list[dict[str, Any]], token: str, key: Ed25519Key) -> list[Prepared]:
    """One signed proposal per block, as the platform client builds them."""
    prepared = []
    for block in blocks:
        body = json.dumps(transfer_body(block), separators=(",", ":")).encode()
        claims = {"jti": uuid.uuid4().hex, "iat": int(time.time()), "htm": "POST", "htu": PATH}
        prepared.append(
            Prepared(
                body,
                {
                    "authorization": f"Bearer {token}",
                    "content-type": "application/json",
                    "idempotency-key": f"bench-{uuid.uuid4().hex}",
                    "puhui-signature": sign_detached(body, key, headers=claims),
                },
            )
        )
    return prepared


async def _drive(app: Any, requests: list[Prepared], concurrency: int, expect: int) -> Run:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hub") as client:
        queue = iter(requests)

        async def sender() -> None:
            for item in queue:
                response = await client.post(PATH, content=item.body, headers=item.headers)
                if response.status_code != expect:
                    raise RuntimeError(f"{response.status_code}: {response.text[:300]}")

        cpu, wall = time.process_time(), time.perf_counter()
        async with asyncio.TaskGroup() as group:
            for _ in range(concurrency):
                group.create_task(sender())
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return Run(len(requests) / wall, cpu / len(requests) * 1000)


def drive(app: Any, requests: list[Prepared], concurrency: int, expect: int) -> Run:
    return asyncio.run(_drive(app, requests, concurrency, expect))


def raw_verify_app(key: Ed25519Key) -> FastAPI:
    """A bare FastAPI app verifying one detached JWS over the body: the request ceiling."""
    app = FastAPI()

    @app.post(PATH)
    async def verify(request: Request) -> dict[str, str]:
        body = await request.body()
        verified = verify_detached(request.headers["puhui-signature"], body, key)
        return {"kid": verified.kid}

    return app


def echo_app(status: int, answer: bytes, headers: list[tuple[bytes, bytes]]) -> Any:
    """An ASGI app that reads the body and answers with ``answer``: what the client costs."""

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        more = True
        while more:
            message = await receive()
            more = message.get("more_body", False)
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": answer})

    return app


async def _answer(app: Any, item: Prepared) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hub") as client:
        response = await client.post(PATH, content=item.body, headers=item.headers)
        await response.aread()
        return response


def raw_insert(database: Database) -> float:
    """Single-row insert transactions per second on the same database."""
    with database.engine.begin() as connection:
        connection.execute(text("CREATE TABLE raw_probe (n INTEGER)"))
    counter = iter(range(10**9))

    def insert_one() -> None:
        with database.engine.begin() as connection:
            connection.execute(text("INSERT INTO raw_probe VALUES (:n)"), {"n": next(counter)})

    return rate(insert_one, rounds=3)


@contextmanager
def counting_hops() -> Iterator[Callable[[], int]]:
    """Count thread-pool hops (every one goes through ``anyio.to_thread.run_sync``)."""
    original = anyio.to_thread.run_sync
    count = 0

    async def counted(*args: Any, **kwargs: Any) -> Any:
        nonlocal count
        count += 1
        return await original(*args, **kwargs)

    anyio.to_thread.run_sync = counted  # type: ignore[assignment]
    try:
        yield lambda: count
    finally:
        anyio.to_thread.run_sync = original  # type: ignore[assignment]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--proposals", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=4, help="requests in flight at once")
    parser.add_argument("--postgres")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch, bench_database(args.postgres) as url:
        warm = 20
        database, settings, credentials, _, blocks = prepare(url, Path(scratch), args.proposals + warm + 1)
        app = create_app(settings, database)
        platform = json.loads((credentials / "js.json").read_text("utf-8"))
        with TestClient(app) as test_client:
            jiangsu = PlatformClient.from_credentials(platform, transport=test_client._transport)
            token = jiangsu.access_token()
            jiangsu.close()
        key = Ed25519Key.from_jwk(platform["private_jwk"])
        requests = signed_requests(blocks, token, key)
        drive(app, requests[: warm - 1], 1, 201)
        sample = asyncio.run(_answer(app, requests[warm - 1]))
        with counting_hops() as hops:
            drive(app, requests[warm : warm + 1], 1, 201)
            per_request = hops()
        hub = drive(app, requests[warm + 1 :], args.concurrency, 201)
        raw = drive(raw_verify_app(key), requests[warm + 1 :], args.concurrency, 200)
        headers = [(k.encode(), v.encode()) for k, v in sample.headers.items()]
        client = drive(echo_app(201, sample.content, headers), requests[warm + 1 :], args.concurrency, 201)
        insert = raw_insert(database)
        database.dispose()
    backend = url.split(":")[0].split("+")[0]
    print(f"single signed proposals, {backend}, {args.proposals} requests, {args.concurrency} in flight")
    print(f"  hub: POST /v1/transfers            {hub.per_second:8.0f}/s   {hub.cpu_ms:6.2f} ms CPU each")
    print(f"  of which the client (echo app)               {client.cpu_ms:6.2f} ms CPU each")
    print(f"  of which the hub                             {hub.cpu_ms - client.cpu_ms:6.2f} ms CPU each")
    print(f"  raw: FastAPI verify one JWS        {raw.per_second:8.0f}/s   {raw.cpu_ms:6.2f} ms CPU each")
    print(f"  raw: single-row insert transaction {insert:8.0f}/s")
    print(f"  thread-pool hops per proposal      {per_request:8d}")
    print(f"  ratio hub / raw verify             {hub.per_second / raw.per_second:8.3f}")
    print(f"  ratio hub / raw insert             {hub.per_second / insert:8.3f}")


if __name__ == "__main__":
    main()
