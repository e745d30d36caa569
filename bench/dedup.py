"""Serial-overlap probe at 1M and 10M blocks, beside a bare index probe measured in the same run.

    .venv/bin/python -m bench.dedup                        # SQLite, 1M and 10M blocks
    .venv/bin/python -m bench.dedup --sizes 100000 --postgres postgresql+psycopg://postgres@127.0.0.1:5432/puhui_bench

The probe is what every ingest, recognition and retirement does per namespace: the predecessor of
the lowest serial and the blocks starting inside the span (``RegistryRepository.neighbours``, one
statement through the driver), then the in-memory merge (``mutual_recognition.serials.overlaps_with``).
The bare probe is one single-row index lookup through the same driver path. Target (DESIGN.md §8): O(log n),
≤ 20 µs at 10 million blocks.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import text

from hub.database import Database
from hub.migrate import upgrade
from hub.registry.repository import RegistryRepository
from mutual_recognition.serials import SerialRange, overlaps_with

COLUMNS = "block_id, origin_registry, current_registry, serial_namespace, serial_start, serial_end, quantity, vintage, catalogue_id, project_registry, project_id, holder_account, status, record, batch_id"


def load(database: Database, size: int) -> None:
    rows = (
        (
            f"JS-B-{n}",
            "JS",
            "JS",
            "JS",
            1 + n * 10,
            10 + n * 10,
            10,
            2025,
            "PV-DISTRIBUTED",
            "JS",
            "P",
            "A",
            "held",
            "{}",
            "b",
        )
        for n in range(size)
    )
    with database.engine.begin() as connection:
        connection.execute(text("DELETE FROM credit_block"))
        raw = connection.connection.driver_connection
        if database.engine.dialect.name == "postgresql":
            with raw.cursor() as cursor, cursor.copy(f"COPY credit_block ({COLUMNS}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            raw.executemany(f"INSERT INTO credit_block ({COLUMNS}) VALUES ({', '.join('?' * 15)})", rows)
    with database.engine.begin() as connection:
        connection.execute(text("ANALYZE"))


def measure(database: Database, size: int, probes: int = 2000) -> tuple[float, float]:
    probe_times, bare_times = [], []
    with database.unit_of_work() as session:
        repository = RegistryRepository(session)
        connection = session.connection()
        mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
        bare_sql = f"SELECT 1 FROM credit_block WHERE serial_namespace = 'JS' AND serial_start = {mark}"
        for _ in range(probes):
            start_serial = random.randrange(1, size * 10)
            wanted = [SerialRange(start_serial, start_serial + 4, "new")]
            start = time.perf_counter()
            overlaps_with(wanted, repository.neighbours("JS", start_serial, start_serial + 4))
            probe_times.append(time.perf_counter() - start)
            start = time.perf_counter()
            connection.exec_driver_sql(bare_sql, (start_serial,)).first()
            bare_times.append(time.perf_counter() - start)
    return statistics.median(probe_times), statistics.median(bare_times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="1000000,10000000")
    parser.add_argument("--postgres")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        url = args.postgres or f"sqlite:///{Path(scratch) / 'bench.sqlite3'}"
        upgrade(url)
        database = Database.from_url(url)
        print(f"backend {database.engine.dialect.name}")
        for size in (int(s) for s in args.sizes.split(",")):
            start = time.perf_counter()
            load(database, size)
            loaded = time.perf_counter() - start
            probe, bare = measure(database, size)
            print(
                f"  {size:>11,} blocks (loaded in {loaded:5.1f} s): overlap probe {probe * 1e6:7.1f} µs"
                f"   bare index probe {bare * 1e6:6.1f} µs   ratio {probe / bare:5.2f}"
            )
        database.dispose()


if __name__ == "__main__":
    main()
