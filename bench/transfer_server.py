"""Signed end-to-end transfers against the hub as it runs in production: `puhui serve` (uvicorn)
in its own process, its transfer worker thread driving the saga through the sandbox platforms over
real HTTP; the proposals come from client threads in this process (the other core).

    .venv/bin/python -m bench.transfer_server                          # SQLite, 300 transfers
    .venv/bin/python -m bench.transfer_server --clients 4 --postgres postgresql+psycopg://postgres@127.0.0.1:5432/puhui_bench

Prints proposals/s, completed transfers/s and p50/p99 latency from proposal to completion (all
proposals are sent as fast as the clients can: a throughput run), beside the raw primitives of the
same run (bench/transfer.py). Target (DESIGN.md §8): ≥ 1,000 transfers/s on 2 cores with PostgreSQL.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
from sqlalchemy import text

from bench.transfer import prepare, report, transfer_body
from hub.client import PlatformClient


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--transfers", type=int, default=300)
    parser.add_argument("--clients", type=int, default=2, help="client threads proposing at once")
    parser.add_argument("--postgres")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        url = args.postgres or f"sqlite:///{Path(scratch) / 'bench.sqlite3'}"
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        database, _, credentials, page, blocks = prepare(url, Path(scratch), args.transfers, base)
        env = {
            **os.environ,
            "PUHUI_DATA_DIR": scratch,
            "PUHUI_DATABASE_URL": url,
            "PUHUI_PORT": str(port),
            "PUHUI_PUBLIC_URL": base,
            "PUHUI_DEMO": "1",
            "PUHUI_RATE_LIMIT_PER_MINUTE": "10000000",
            "PUHUI_LOG_LEVEL": "warning",
        }
        server = subprocess.Popen(
            [sys.executable, "-m", "hub.cli.main", "serve"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 60
            while True:
                try:
                    if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if server.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit("the hub did not start")
                time.sleep(0.2)
            httpx.post(
                f"{base}/sandbox/js/_sandbox/issuances",
                content=page,
                headers={"content-type": "text/csv; charset=gbk"},
            ).raise_for_status()
            proposed_at: dict[str, float] = {}
            failures: list[BaseException] = []
            slices = [blocks[n :: args.clients] for n in range(args.clients)]

            def propose(mine: list[dict[str, object]]) -> None:
                try:
                    send(mine)
                except BaseException as exc:
                    failures.append(exc)
                    raise

            def send(mine: list[dict[str, object]]) -> None:
                with PlatformClient.from_credentials(credentials / "js.json", base_url=base) as jiangsu:
                    for block in mine:
                        body = transfer_body(block)
                        key = str(body["transfer_id"])
                        jiangsu.request(
                            "POST", "/v1/transfers", json_body=body, headers={"Idempotency-Key": key}
                        )
                        proposed_at[key] = time.perf_counter()

            start = time.perf_counter()
            threads = [threading.Thread(target=propose, args=(mine,)) for mine in slices]
            for thread in threads:
                thread.start()
            done_at: dict[str, float] = {}
            while len(done_at) < len(blocks):
                if failures:
                    raise SystemExit(f"a client failed: {failures[0]!r}")
                with database.engine.connect() as connection:
                    rows = connection.execute(text("SELECT id FROM transfer WHERE state = 'completed'"))
                    for (transfer_id,) in rows:
                        done_at.setdefault(transfer_id, time.perf_counter())
                if time.monotonic() > deadline + 600:
                    raise SystemExit(
                        f"only {len(done_at)} of {len(blocks)} transfers completed in 10 minutes"
                    )
                time.sleep(0.02)
            for thread in threads:
                thread.join()
            proposing = max(proposed_at.values()) - start
            total = max(done_at.values()) - start
        finally:
            server.terminate()
            server.wait(timeout=20)
        report(
            f"backend {url.split(':')[0]}, {args.transfers} transfers, {args.clients} client thread(s),"
            " hub served by uvicorn in its own process (its worker thread, sandboxes over HTTP)",
            database,
            proposed_at,
            done_at,
            proposing,
            total,
        )


if __name__ == "__main__":
    main()
