"""Signed transfers end to end: token, signed request, checks, state, log, then the saga through
the sandbox platforms' APIs (in process), driven by the transfer worker's batched rounds; beside
the raw primitives of the same run.

    .venv/bin/python -m bench.transfer                       # SQLite: 100 single, 2,000 batched
    .venv/bin/python -m bench.transfer --postgres postgresql+psycopg://postgres@127.0.0.1:5432/puhui_bench

Prints single signed proposals/s, batch proposals (``--batch`` transfers per signed request)
as transfers/s and requests/s, and completed transfers/s of the worker's batched rounds (three
steps each, one batch call per platform and step), each as a ratio to the raw single-row insert
transaction and to the raw Ed25519 verify measured on the same machine in the same run.
Targets (DESIGN.md §8): batch proposals ≥ 3,000/s SQLite, ≥ 2,000/s PostgreSQL; completed
transfers with batched rounds ≥ 700/s SQLite (≥ 0.25 of the raw insert transaction), ≥ 500/s
PostgreSQL (≥ 0.45). bench/transfer_server.py runs the same against a served hub with the
platforms in their own processes.
"""

from __future__ import annotations

import argparse
import csv
import io
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import text

from adapters.registry import get
from bench.databases import bench_database
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
    """The denominators, measured in the same run: an Ed25519 verify of 1 KB, and a single-row
    insert transaction on the same database."""
    key = Ed25519Key.generate()
    message = b"x" * 1024
    signature = key.sign(message)
    verify = rate(lambda: key.verify(signature, message))
    with database.engine.begin() as connection:
        connection.execute(text("CREATE TABLE IF NOT EXISTS raw_probe (n INTEGER)"))
    counter = iter(range(10**9))

    def insert_one() -> None:
        with database.engine.begin() as connection:
            connection.execute(text("INSERT INTO raw_probe VALUES (:n)"), {"n": next(counter)})

    return verify, rate(insert_one, rounds=3)


@dataclass
class Run:
    """What a run measured (rates per second; None when the phase was not run)."""

    title: str
    single: float | None = None
    batch_transfers: float | None = None
    batch_requests: float | None = None
    completed: float | None = None
    notes: list[str] = field(default_factory=list)


def report(run: Run, database: Database) -> None:
    """Print the run beside the raw primitives, measured now on the same database (then closed)."""
    verify, raw_insert = raw_primitives(database)
    database.dispose()
    print(run.title)
    rows: list[tuple[str, float | None, str]] = [
        ("single signed proposals (one transfer per request)", run.single, "insert"),
        ("batch proposals, transfers", run.batch_transfers, "insert"),
        ("batch proposals, signed requests", run.batch_requests, "verify"),
        ("completed transfers, batched rounds", run.completed, "insert"),
    ]
    for name, value, raw in rows:
        if value is None:
            continue
        denominator = raw_insert if raw == "insert" else verify
        label = "raw insert txn" if raw == "insert" else "raw verify"
        print(f"  {name:<52} {value:9.0f}/s   ratio to {label:<14} {value / denominator:6.3f}")
    print(f"  {'raw Ed25519 verify (1 KB)':<52} {verify:9.0f}/s")
    print(f"  {'raw single-row insert transaction':<52} {raw_insert:9.0f}/s")
    for note in run.notes:
        print(f"  {note}")


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


def chunks(items: list[Any], size: int) -> list[list[Any]]:
    return [items[n : n + size] for n in range(0, len(items), size)]


def propose_single(jiangsu: PlatformClient, blocks: list[dict[str, Any]]) -> None:
    for block in blocks:
        body = transfer_body(block)
        jiangsu.request(
            "POST", "/v1/transfers", json_body=body, headers={"Idempotency-Key": body["transfer_id"]}
        )


def propose_batches(jiangsu: PlatformClient, blocks: list[dict[str, Any]], size: int, name: str) -> int:
    """Propose ``blocks`` ``size`` per signed request; how many requests."""
    batches = chunks(blocks, size)
    for number, batch in enumerate(batches):
        jiangsu.request(
            "POST",
            "/v1/transfer-batches",
            json_body={"transfers": [transfer_body(block) for block in batch]},
            headers={"Idempotency-Key": f"batch-{name}-{number}"},
        )
    return len(batches)


def completed(database: Database) -> int:
    with database.engine.connect() as connection:
        return int(
            connection.execute(text("SELECT count(*) FROM transfer WHERE state = 'completed'")).scalar_one()
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--transfers", type=int, default=2000, help="transfers proposed in batches")
    parser.add_argument("--batch", type=int, default=100, help="transfers per batch request")
    parser.add_argument("--single", type=int, default=100, help="transfers proposed one per request")
    parser.add_argument("--postgres")
    args = parser.parse_args()
    total = args.single + args.transfers
    with tempfile.TemporaryDirectory() as scratch, bench_database(args.postgres) as url:
        database, settings, credentials, page, blocks = prepare(url, Path(scratch), total)
        run = Run(
            f"backend {url.split(':')[0]}, {args.single} single + {args.transfers} batched transfers"
            f" ({args.batch} per request), in-process sandboxes (TestClient), one worker"
        )
        with TestClient(create_app(settings, database)) as hub:
            hub.post(
                "/sandbox/js/_sandbox/issuances",
                content=page,
                headers={"content-type": "text/csv; charset=gbk"},
            )
            with PlatformClient.from_credentials(
                credentials / "js.json", transport=hub._transport
            ) as jiangsu:
                jiangsu.access_token()
                if args.single:
                    start = time.perf_counter()
                    propose_single(jiangsu, blocks[: args.single])
                    run.single = args.single / (time.perf_counter() - start)
                if args.transfers:
                    start = time.perf_counter()
                    requests = propose_batches(jiangsu, blocks[args.single :], args.batch, "b")
                    elapsed = time.perf_counter() - start
                    run.batch_transfers, run.batch_requests = args.transfers / elapsed, requests / elapsed
            worker = TransferWorker(database, settings, transport=hub._transport)
            start = time.perf_counter()
            rounds = 0
            while completed(database) < total:
                rounds += 1
                if not worker.run_once(datetime.now(UTC)) and rounds > 10 * (total // 200 + 3):
                    raise SystemExit(f"only {completed(database)} of {total} transfers completed")
            run.completed = total / (time.perf_counter() - start)
            run.notes.append(f"{rounds} worker rounds of up to 200 transfers each")
            worker.close()
        report(run, database)


if __name__ == "__main__":
    main()
