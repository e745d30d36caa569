"""Transparency log: appends per second and inclusion-proof time at 1M and 10M entries, beside the
raw primitives measured in the same run (SHA-256 of an entry; a single-row indexed lookup).

    .venv/bin/python -m bench.log                      # SQLite, sizes 1M and 10M
    .venv/bin/python -m bench.log --sizes 100000       # quicker
    .venv/bin/python -m bench.log --postgres postgresql+psycopg://postgres@127.0.0.1:5432/bench

The proof sizes are built by inserting the stored subtree hashes of N synthetic entries in bulk;
proofs are then served exactly as the API serves them (``LogReader.inclusion``).
"""

from __future__ import annotations

import argparse
import hashlib
import random
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import text

from bench.timing import rate
from hub.database import Database
from hub.log.changes import record_change
from hub.log.reader import LogReader
from hub.migrate import upgrade
from transparency import appended_nodes, leaf_hash

ENTRY = (
    b'{"data":{"actor":"bench"},"event_id":"evt-0","log_index":0,"platforms":["JS"],"type":"bench.append"}'
    * 3
)


def _appends(database: Database, count: int) -> float:
    start = time.perf_counter()
    for _ in range(count):
        with database.unit_of_work() as session:
            record_change(
                session, "bench.appended", subject=("platform", "JS"), actor="bench", platforms=["JS"]
            )
    return count / (time.perf_counter() - start)


def _nodes(size: int) -> list[tuple[int, int, bytes]]:
    stored: dict[tuple[int, int], bytes] = {}
    rows = []
    for index in range(size):
        for (level, idx), value in appended_nodes(index, leaf_hash(b"entry %d" % index), stored):
            rows.append((level, idx, value))
            if idx & 1 == 0:  # only left siblings are needed again while building
                stored[(level, idx)] = value
            stored.pop((level, idx - 1), None)
    return rows


def _load(database: Database, size: int) -> None:
    rows = _nodes(size)
    backend = database.engine.dialect.name
    with database.engine.begin() as connection:
        connection.execute(text("DELETE FROM log_node"))
        raw = connection.connection.driver_connection
        if backend == "postgresql":
            with raw.cursor() as cursor, cursor.copy("COPY log_node (level, idx, hash) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            raw.executemany("INSERT INTO log_node (level, idx, hash) VALUES (?, ?, ?)", rows)
        connection.execute(text("UPDATE log_head SET size = :size"), {"size": size})


def _proof_time(database: Database, size: int, probes: int = 300) -> tuple[float, float]:
    samples, lookups = [], []
    with database.unit_of_work() as session:
        reader = LogReader(session)
        for _ in range(probes):
            index = random.randrange(size)
            start = time.perf_counter()
            reader.inclusion(index, size)
            samples.append(time.perf_counter() - start)
            start = time.perf_counter()
            session.execute(
                text("SELECT hash FROM log_node WHERE level = 0 AND idx = :i"), {"i": index}
            ).one()
            lookups.append(time.perf_counter() - start)
    return statistics.median(samples), statistics.median(lookups)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="1000000,10000000")
    parser.add_argument("--appends", type=int, default=3000)
    parser.add_argument("--postgres", help="run on this PostgreSQL database instead of SQLite")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        url = args.postgres or f"sqlite:///{Path(scratch) / 'bench.sqlite3'}"
        upgrade(url)
        database = Database.from_url(url)
        sha = rate(lambda: hashlib.sha256(b"\x00" + ENTRY).digest())
        print(f"backend {database.engine.dialect.name}; raw SHA-256 of a {len(ENTRY)} B entry: {sha:,.0f}/s")
        appends = _appends(database, args.appends)
        print(
            f"appends (one transaction each: entry, nodes, event): {appends:,.0f}/s   ratio to raw SHA-256 {appends / sha:.4f}"
        )
        for size in (int(s) for s in args.sizes.split(",")):
            start = time.perf_counter()
            _load(database, size)
            built = time.perf_counter() - start
            proof, lookup = _proof_time(database, size)
            print(
                f"size {size:>11,}: built in {built:5.1f} s; inclusion proof {proof * 1e6:8.1f} µs"
                f"   raw indexed lookup {lookup * 1e6:6.1f} µs   ratio {proof / lookup:5.1f}"
            )
        database.dispose()


if __name__ == "__main__":
    main()
