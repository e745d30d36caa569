"""Ingest with a million issuance claims already stored for the same project, beside the rate
without them, in one run.

    .venv/bin/python -m bench.dedup_claims                 # SQLite, 1,000,000 stored claims
    .venv/bin/python -m bench.dedup_claims --postgres postgresql+psycopg://postgres@127.0.0.1:5432/postgres

Blocks of the registered Kunshan PV project go through the JS adapter and the registry's ingest
(``bench.ingest.ingest_rate``): each is checked for double issuance (4001) against the stored
claims and leaves its own claim. First with no stored claim but the warm-up's, then after
``--claims`` claims of the same project are loaded (its own registry's, as a province issuing
daily for years would leave, plus one in a thousand from CCER for earlier, non-overlapping periods
so the other-registry probe has rows to skip past). Target (issue 14): the rate with them ≥ 0.8 of
the rate without them, on SQLite and PostgreSQL. Before issue 14 every block loaded every stored
claim of its project as an ORM object (~150 µs per block at 20k claims).
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
from typing import Any

from sqlalchemy import text

from bench.databases import bench_database
from bench.ingest import ingest_rate, register_project
from hub.database import Database
from hub.migrate import upgrade


def fingerprint_of_project(database: Database) -> str:
    with database.engine.begin() as connection:
        return str(connection.execute(text("SELECT fingerprint FROM issuance_claim LIMIT 1")).scalar_one())


def load_claims(database: Database, count: int, fingerprint: str) -> None:
    """``count`` claims on ``fingerprint``: JS's for past years, every thousandth CCER's; each
    published in the claim feed as ingests of a thousand claims would be (``ux_issuance_claim_feed``
    holds them all; their log indexes from 10^9 on, clear of the bench's own ingests)."""
    first = dt.date(1990, 1, 1)
    rows = []
    for n in range(count):
        registry = "CCER" if n % 1000 == 0 else "JS"
        start = first + dt.timedelta(days=n % 9000)  # all before 2025: none overlaps the bench's
        rows.append(
            (
                f"OLD-{n}",
                registry,
                fingerprint,
                start,
                start + dt.timedelta(days=30),
                10**9 + n // 1000,
                n % 1000,
            )
        )
    with database.engine.begin() as connection:
        driver: Any = connection.connection.driver_connection
        columns = "block_id, registry_code, fingerprint, period_start, period_end, log_index, position"
        if database.engine.dialect.name == "postgresql":
            with (
                driver.cursor() as cursor,
                cursor.copy(f"COPY issuance_claim ({columns}) FROM STDIN") as copy,
            ):
                for row in rows:
                    copy.write_row(row)
        else:
            driver.executemany(
                f"INSERT INTO issuance_claim ({columns}) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(b, r, f, s.isoformat(), e.isoformat(), i, p) for b, r, f, s, e, i, p in rows],
            )
    with database.engine.begin() as connection:
        connection.execute(text("ANALYZE"))
    if database.engine.dialect.name == "postgresql":  # settle the load's writes before measuring
        with database.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("CHECKPOINT"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--claims", type=int, default=1_000_000)
    parser.add_argument("--blocks", type=int, default=60_000)
    parser.add_argument("--chunk", type=int, default=20_000)
    parser.add_argument("--postgres", help="PostgreSQL URL: run in a scratch database on its server")
    args = parser.parse_args()
    with bench_database(args.postgres) as url:
        upgrade(url)
        database = Database.from_url(url)
        register_project(database)
        ingest_rate(database, 10**8, args.chunk, args.chunk, "JS-B-WARM")
        without = ingest_rate(database, 0, args.blocks, args.chunk, "JS-B-BEFORE")
        began = time.perf_counter()
        load_claims(database, args.claims, fingerprint_of_project(database))
        loaded = time.perf_counter() - began
        with_claims = ingest_rate(database, args.blocks, args.blocks, args.chunk, "JS-B-AFTER")
        print(f"backend {database.engine.dialect.name}, {args.blocks:,} blocks in chunks of {args.chunk:,}")
        print(f"  ingest, no stored claims of the project      {without:>10,.0f} blocks/s")
        print(
            f"  ingest, {args.claims:>9,} stored claims (loaded in {loaded:4.1f} s) {with_claims:>10,.0f} blocks/s"
        )
        print(f"  ratio with / without                          {with_claims / without:10.2f}")
        database.dispose()


if __name__ == "__main__":
    main()
