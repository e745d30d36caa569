"""Signed transfers against the hub as it runs in production: `puhui serve` (uvicorn) in its own
process, its transfer worker thread driving the saga in batched rounds over real HTTP to the
Jiangsu and Shanghai sandbox platforms, each in its own process (`python -m adapters.sandbox`);
the proposals come from client threads of this process.

    .venv/bin/python -m bench.transfer_server                  # SQLite: 100 single, 3,000 batched
    .venv/bin/python -m bench.transfer_server --postgres postgresql+psycopg://postgres@127.0.0.1:5432/puhui_bench

Two phases: single signed proposals (one transfer per request, sent by one client), waited for
until the worker completed them; then batch proposals (``--batch`` transfers per signed request,
from ``--clients`` threads) while the worker completes them. Prints single proposals/s, batch
proposals as transfers/s and requests/s, and completed transfers/s of the batch phase (from its
first proposal to its last completion: the worker's rounds overlap the proposals; an idle worker
is woken by a proposal committed in its process, else looks for work every poll interval, 1 s), beside the raw single-row insert transaction and the raw Ed25519
verify measured in the same run (bench/transfer.py). Also the CPU time of the hub's process and of
the two platforms' processes per completed transfer over the batch phase (the machine may be
loaded: CPU time is what other processes do not change much), and the notices to origins still
unacknowledged at the last completion, then the hub's CPU per transfer once they all are. Targets (DESIGN.md §8): batch proposals
≥ 3,000/s SQLite, ≥ 2,000/s PostgreSQL; completed ≥ 700/s SQLite (≥ 0.25 of the raw insert
transaction), ≥ 500/s PostgreSQL (≥ 0.45).

``--worker-process``: the hub served without workers (``puhui serve --no-workers``) and its
workers in a ``puhui work`` process of their own (idle, they look for work every ``--poll``
seconds, PUHUI_WORKER_POLL_INTERVAL); the hub's CPU is then both processes'. The shape that ran is
printed, and the load average at the batch phase's start and end.
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
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text

from bench.databases import bench_database
from bench.transfer import Run, chunks, completed, prepare, propose_batches, propose_single, report
from hub.client import PlatformClient
from hub.database import Database


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """The user and system CPU time a process has used so far (Linux: /proc/<pid>/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def process(
    args: list[str], ready: str, env: dict[str, str] | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``args`` until the block ends, once ``ready`` (a URL) answers 200."""
    child = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(ready, timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if child.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"{' '.join(args)} did not start")
            time.sleep(0.2)
        yield child
    finally:
        child.terminate()
        child.wait(timeout=20)


@contextmanager
def worker_process(env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    """`puhui work` until the block ends (SIGTERM: it stops after its current rounds)."""
    child = subprocess.Popen(
        [sys.executable, "-m", "hub.cli.main", "work"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    try:
        yield child
    finally:
        child.terminate()
        child.wait(timeout=20)


def hub_cpu_seconds(hubs: list[subprocess.Popen[bytes]]) -> float:
    """The CPU time of the hub's processes: the served one, and its workers' when on their own."""
    return sum(cpu_seconds(hub.pid) for hub in hubs)


def wait_for(database: Database, count: int, limit: float = 600) -> None:
    deadline = time.monotonic() + limit
    while completed(database) < count:
        if time.monotonic() > deadline:
            raise SystemExit(f"only {completed(database)} of {count} transfers completed in {limit:.0f} s")
        time.sleep(0.05)


def pending_notices(database: Database) -> int:
    """Notices to origins not yet answered."""
    with database.engine.connect() as connection:
        query = text("SELECT count(*) FROM origin_notice WHERE status = 'pending'")
        return int(connection.execute(query).scalar_one())


def wait_for_notices(database: Database, limit: float = 600) -> None:
    deadline = time.monotonic() + limit
    while pending_notices(database):
        if time.monotonic() > deadline:
            raise SystemExit(f"{pending_notices(database)} notices still unanswered after {limit:.0f} s")
        time.sleep(0.05)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--transfers", type=int, default=3000, help="transfers proposed in batches")
    parser.add_argument("--batch", type=int, default=100, help="transfers per batch request")
    parser.add_argument("--single", type=int, default=100, help="transfers proposed one per request")
    parser.add_argument("--clients", type=int, default=2, help="client threads sending batches")
    parser.add_argument("--postgres")
    parser.add_argument(
        "--worker-process",
        action="store_true",
        help="serve the hub without workers (--no-workers) and run them in a `puhui work` process",
    )
    parser.add_argument(
        "--poll",
        type=float,
        default=None,
        help="the workers' idle poll interval (PUHUI_WORKER_POLL_INTERVAL)",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch, bench_database(args.postgres) as url:
        run, database = measure(args, Path(scratch), url)
        report(run, database)  # the raw primitives, in the same (still existing) database


def measure(args: argparse.Namespace, scratch: Path, url: str) -> tuple[Run, Database]:
    total = args.single + args.transfers
    with ExitStack() as running:
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        database, _, credentials, page, blocks = prepare(url, scratch, total, base)
        sandboxes, platforms = {}, []
        for code in ("JS", "SH"):
            sandbox_port = _free_port()
            sandboxes[code] = f"http://127.0.0.1:{sandbox_port}"
            command = [sys.executable, "-m", "adapters.sandbox", code, "--port", str(sandbox_port)]
            platforms.append(running.enter_context(process(command, f"{sandboxes[code]}/_sandbox/state")))
        with database.engine.begin() as connection:  # the platforms' APIs are their own processes
            for code, address in sandboxes.items():
                connection.execute(
                    text("UPDATE platform SET api_base_url = :url WHERE code = :code"),
                    {"url": address, "code": code},
                )
        httpx.post(
            f"{sandboxes['JS']}/_sandbox/issuances",
            content=page,
            headers={"content-type": "text/csv; charset=gbk"},
        ).raise_for_status()
        env = {
            **os.environ,
            "PUHUI_DATA_DIR": str(scratch),
            "PUHUI_DATABASE_URL": url,
            "PUHUI_PORT": str(port),
            "PUHUI_PUBLIC_URL": base,
            "PUHUI_DEMO": "1",
            "PUHUI_RATE_LIMIT_PER_MINUTE": "10000000",
            "PUHUI_LOG_LEVEL": "warning",
            # the hub's workers are what completes the transfers: on whatever the caller's
            # environment says for in-process benches (PUHUI_WEBHOOK_WORKER=0 turns them all off)
            "PUHUI_WEBHOOK_WORKER": "1",
        }
        if args.poll is not None:
            env["PUHUI_WORKER_POLL_INTERVAL"] = str(args.poll)
        serve = [sys.executable, "-m", "hub.cli.main", "serve"]
        if args.worker_process:
            serve.append("--no-workers")
        hub = running.enter_context(process(serve, f"{base}/healthz", env))
        hubs = [hub]
        if args.worker_process:
            hubs.append(running.enter_context(worker_process(env)))
            shape = (
                "hub served by uvicorn without workers (--no-workers), its workers in a `puhui work`"
                f" process (idle poll {env.get('PUHUI_WORKER_POLL_INTERVAL', '1')} s)"
            )
        else:
            shape = "hub served by uvicorn in its own process (its worker threads)"
        print(f"shape: {shape}", flush=True)
        run = Run(
            f"backend {url.split(':')[0]}, {args.single} single + {args.transfers} batched transfers"
            f" ({args.batch} per request, {args.clients} client threads); {shape}; the JS and SH sandbox"
            " platforms each in its own process"
        )
        with PlatformClient.from_credentials(credentials / "js.json", base_url=base) as jiangsu:
            if args.single:
                start = time.perf_counter()
                propose_single(jiangsu, blocks[: args.single])
                run.single = args.single / (time.perf_counter() - start)
                wait_for(database, args.single)
        failures: list[BaseException] = []
        sent: list[int] = []

        def send(mine: list[list[dict[str, Any]]], name: str) -> None:
            try:
                with PlatformClient.from_credentials(credentials / "js.json", base_url=base) as client:
                    client.access_token()
                    for number, batch in enumerate(mine):
                        sent.append(propose_batches(client, batch, args.batch, f"{name}-{number}"))
            except BaseException as exc:
                failures.append(exc)
                raise

        batches = chunks(blocks[args.single :], args.batch)
        slices = [batches[n :: args.clients] for n in range(args.clients)]
        threads = [threading.Thread(target=send, args=(mine, f"c{n}")) for n, mine in enumerate(slices)]
        hub_before, platforms_before = hub_cpu_seconds(hubs), sum(cpu_seconds(p.pid) for p in platforms)
        load_before = os.getloadavg()[0]
        worker_before = cpu_seconds(hubs[1].pid) if args.worker_process else 0.0
        start = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        proposing = time.perf_counter() - start
        if failures:
            raise SystemExit(f"a client failed: {failures[0]!r}")
        run.batch_transfers, run.batch_requests = args.transfers / proposing, sum(sent) / proposing
        wait_for(database, total)
        run.completed = args.transfers / (time.perf_counter() - start)
        hub_cpu = hub_cpu_seconds(hubs) - hub_before
        load_after = os.getloadavg()[0]
        platforms_cpu = sum(cpu_seconds(p.pid) for p in platforms) - platforms_before
        unacknowledged = pending_notices(database)
        wait_for_notices(database)
        drained = hub_cpu_seconds(hubs) - hub_before
        worker_cpu = cpu_seconds(hubs[1].pid) - worker_before if args.worker_process else None
        run.notes += [
            f"load average (1 min) {load_before:.2f} at the batch phase's start, {load_after:.2f} at the"
            " last completion",
            f"batch phase CPU per completed transfer: hub {hub_cpu / args.transfers * 1000:.2f} ms,"
            f" the two platforms {platforms_cpu / args.transfers * 1000:.2f} ms",
            f"{unacknowledged} notices to origins unacknowledged at the last completion; hub CPU per"
            f" transfer once all were acknowledged {drained / args.transfers * 1000:.2f} ms"
            + (
                f" (of which the `puhui work` process {worker_cpu / args.transfers * 1000:.2f} ms)"
                if worker_cpu is not None
                else ""
            ),
        ]
    return run, database


if __name__ == "__main__":
    main()
