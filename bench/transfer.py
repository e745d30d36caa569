"""End-to-end signed transfers: token, signed request, checks, state, log, the saga through the
sandbox platforms' APIs (in process), driven by the transfer worker; beside the raw primitives.

    .venv/bin/python -m bench.transfer                      # SQLite, 200 transfers
    .venv/bin/python -m bench.transfer --transfers 500 --postgres postgresql+psycopg://postgres@127.0.0.1:5432/puhui_bench

Prints proposals/s (signed HTTP requests), completed transfers/s, p50/p99 latency from proposal to
completion (all proposals are made first, so latency includes queueing: this is a throughput run,
not the "half load" latency run), and a raw Ed25519 sign+verify and a raw single-row insert
transaction for reference. The in-process sandbox transport is not thread-safe, so one worker thread
drives the saga here; several hub processes would each run their own.
Target (DESIGN.md §8): ≥ 1,000 transfers/s on 2 cores with PostgreSQL, p99 < 50 ms at half load.
"""

from __future__ import annotations

import argparse
import csv
import io
import statistics
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import text

from adapters.registry import get
from bench.timing import rate
from hub.app import create_app
from hub.client import PlatformClient
from hub.database import Database
from hub.migrate import upgrade
from hub.registry.federation_key import pseudonymizer
from hub.registry.ingest import IngestService, Records
from hub.seed import seed_demo
from hub.settings import Settings
from hub.transfers.worker import TransferWorker
from schemas.jwk import Ed25519Key


def js_page(count: int) -> bytes:
    """A Jiangsu CSV export of ``count`` 10 t blocks (new ids and serials)."""
    fixture = next(f for f in get("JS").fixtures() if f.good and "credits" in f.name)
    header, first = list(csv.reader(io.StringIO(fixture.read().decode("gbk"))))[:2]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    for n in range(count):
        row = list(first)
        row[0], row[6], row[7], row[8] = (
            f"JS-B-BENCH-{n:06d}",
            "10.000",
            str(50_000_001 + n * 10),
            str(50_000_010 + n * 10),
        )
        writer.writerow(row)
    return out.getvalue().encode("gbk")


def raw_primitives(database: Database) -> tuple[float, float]:
    """The denominators, measured in the same run: Ed25519 sign+verify of 1 KB, and a single-row
    insert transaction on the same database."""
    key = Ed25519Key.generate()
    message = b"x" * 1024
    sign_verify = rate(lambda: key.verify(key.sign(message), message))
    with database.engine.begin() as connection:
        connection.execute(text("CREATE TABLE raw_probe (n INTEGER)"))
    counter = iter(range(10**9))

    def insert_one() -> None:
        with database.engine.begin() as connection:
            connection.execute(text("INSERT INTO raw_probe VALUES (:n)"), {"n": next(counter)})

    return sign_verify, rate(insert_one, rounds=3)


def report(
    title: str,
    database: Database,
    proposed_at: dict[str, float],
    done_at: dict[str, float],
    proposing: float,
    total: float,
) -> None:
    """Print the run beside the raw primitives, measured now on the same database (then closed)."""
    n = len(proposed_at)
    latencies = sorted(done_at[t] - proposed_at[t] for t in proposed_at)
    sign_verify, raw_insert = raw_primitives(database)
    database.dispose()
    print(title)
    print(f"  signed proposals (token, JWS, checks, state, log)   {n / proposing:8.0f}/s")
    print(f"  completed transfers (3 steps, 2 platform calls)     {n / total:8.0f}/s")
    print(
        f"  latency proposal -> completed  p50 {statistics.median(latencies) * 1000:8.1f} ms"
        f"   p99 {latencies[int(0.99 * (len(latencies) - 1))] * 1000:8.1f} ms"
    )
    print(f"  raw Ed25519 sign+verify (1 KB)                      {sign_verify:8.0f}/s")
    print(f"  raw single-row insert transaction                   {raw_insert:8.0f}/s")
    print(f"  ratio completed / raw insert                        {n / total / raw_insert:8.3f}")


def prepare(
    url: str, scratch: Path, count: int, public_url: str = "http://127.0.0.1:8000"
) -> tuple[Database, Settings, Path, bytes, list[dict[str, Any]]]:
    """A migrated, seeded hub database where Jiangsu holds ``count`` fresh 10 t blocks; the
    Jiangsu export page (for its sandbox) and the parsed blocks."""
    upgrade(url)
    database = Database.from_url(url)
    settings = Settings(
        data_dir=scratch,
        public_url=public_url,
        demo=True,
        webhook_worker=False,
        rate_limit_per_minute=1_000_000,
    )
    credentials = seed_demo(database, settings, with_issuances=False).credentials_dir
    page = js_page(count)
    parsed = get("JS").parse(
        page,
        content_type="text/csv; charset=gbk",
        pseudonymizer=pseudonymizer(settings.resolved_federation_key_file),
    )
    with database.unit_of_work() as session:
        IngestService(session).ingest("JS", Records(blocks=parsed.blocks), actor="bench", source="bench")
    return database, settings, credentials, page, list(parsed.blocks)


def transfer_body(block: dict[str, Any]) -> dict[str, Any]:
    return {
        "transfer_id": f"TR-{block['block_id']}",
        "destination": "SH",
        "to_account": {"registry": "SH", "account_id": "SH-A-1"},
        "blocks": [{"block_id": block["block_id"], "namespace": "JS"}],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--transfers", type=int, default=200)
    parser.add_argument("--postgres")
    parser.add_argument("--workers", type=int, default=1, help="worker threads (keep 1: see above)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        url = args.postgres or f"sqlite:///{Path(scratch) / 'bench.sqlite3'}"
        database, settings, credentials, page, blocks = prepare(url, Path(scratch), args.transfers)
        with TestClient(create_app(settings, database)) as hub:
            hub.post(
                "/sandbox/js/_sandbox/issuances",
                content=page,
                headers={"content-type": "text/csv; charset=gbk"},
            )
            jiangsu = PlatformClient.from_credentials(credentials / "js.json", transport=hub._transport)
            proposed_at: dict[str, float] = {}
            start = time.perf_counter()
            for block in blocks:
                body = transfer_body(block)
                transfer_id = body["transfer_id"]
                jiangsu.request(
                    "POST", "/v1/transfers", json_body=body, headers={"Idempotency-Key": transfer_id}
                )
                proposed_at[transfer_id] = time.perf_counter()
            proposing = time.perf_counter() - start
            done_at: dict[str, float] = {}
            workers = [
                TransferWorker(database, settings, transport=hub._transport) for _ in range(args.workers)
            ]

            def drive(worker: TransferWorker) -> None:
                while len(done_at) < len(proposed_at):
                    if not worker.run_once(datetime.now(UTC)):
                        time.sleep(0.01)
                    with database.unit_of_work() as session:
                        rows = session.execute(
                            text("SELECT id FROM transfer WHERE state = 'completed'")
                        ).all()
                    for (transfer_id,) in rows:
                        done_at.setdefault(transfer_id, time.perf_counter())

            threads = [threading.Thread(target=drive, args=(worker,)) for worker in workers]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            total = time.perf_counter() - start
            jiangsu.close()
        report(
            f"backend {url.split(':')[0]}, {args.transfers} transfers, {args.workers} worker thread(s),"
            " in-process sandboxes (TestClient)",
            database,
            proposed_at,
            done_at,
            proposing,
            total,
        )


if __name__ == "__main__":
    main()
