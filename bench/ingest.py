"""Bulk ingest through an adapter, beside the raw insert of the same rows in the same run.

    .venv/bin/python -m bench.ingest                       # 1,000,000 blocks, SQLite
    .venv/bin/python -m bench.ingest --blocks 100000 --postgres postgresql+psycopg://postgres@127.0.0.1:5432/bench

A Jiangsu CSV export (GBK) of N blocks goes through the JS adapter (parse: decoding, local checks,
exact units, exchange-schema validation) and the registry's ingest (issuer, duplicate and
serial-overlap checks with the namespace probe, one COPY / executemany, one log entry), in
chunks of ``--chunk`` rows. The raw primitive is an executemany (SQLite) or COPY (PostgreSQL) of
the same rows into a bare copy of the table. Targets (DESIGN.md §8): ≥ 100,000 blocks/s on
PostgreSQL; ≥ 50 % of the raw rate on SQLite.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from sqlalchemy import text

from adapters.privacy import Pseudonymizer
from adapters.registry import get
from hub.database import Database
from hub.migrate import upgrade
from hub.registry.ingest import IngestService, Records
from hub.registry.repository import BLOCK_COLUMNS, block_row

HEADER = (
    "签发编号,项目编号,方法学代码,年度,监测期开始,监测期结束,减排量（吨）,起始序列号,终止序列号,持有账户,状态,"
    "状态说明,排放因子,排放因子单位,排放因子来源,排放因子年份,签发时间,原始登记簿,当前登记簿,协同效益,乡村振兴,演示数据"
)
MEDIA = "text/csv; charset=gbk"


def csv_chunk(first: int, count: int) -> bytes:
    rows = [HEADER]
    for n in range(first, first + count):
        start = 1 + n * 10
        rows.append(
            f"JS-B-BENCH-{n:09d},JS-P-KS-0399,JS-PV-DIST,2025,2025/1/1,2025/12/31,10.000,{start},{start + 9},"
            "JS-A-KSPV-001,持有,,0.5978,kgCO2/kWh,MEE/NBS announcement 2024 No. 33,2022,2026-02-10 09:30:00,"
            "JS,JS,,否,是"
        )
    return ("\n".join(rows) + "\n").encode("gbk")


def raw_rate(database: Database, rows: list[tuple[object, ...]]) -> float:
    """Insert the same rows into a bare copy of credit_block (no indexes, no checks)."""
    backend = database.engine.dialect.name
    with database.engine.begin() as connection:
        connection.execute(text("DROP TABLE IF EXISTS raw_block"))
        connection.execute(text("CREATE TABLE raw_block AS SELECT * FROM credit_block WHERE 1 = 0"))
    start = time.perf_counter()
    with database.engine.begin() as connection:
        raw = connection.connection.driver_connection
        if backend == "postgresql":
            from psycopg.types.json import Jsonb

            with (
                raw.cursor() as cursor,
                cursor.copy(f"COPY raw_block ({', '.join(BLOCK_COLUMNS)}) FROM STDIN") as copy,
            ):
                for row in rows:
                    copy.write_row((*row[:13], Jsonb(row[13]), row[14]))
        else:
            import json

            marks = ", ".join("?" * len(BLOCK_COLUMNS))
            raw.executemany(
                f"INSERT INTO raw_block VALUES ({marks})",
                [(*row[:13], json.dumps(row[13], ensure_ascii=False), row[14]) for row in rows],
            )
    return len(rows) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--blocks", type=int, default=1_000_000)
    parser.add_argument("--chunk", type=int, default=50_000)
    parser.add_argument("--postgres", help="run on this (empty) PostgreSQL database instead of SQLite")
    args = parser.parse_args()
    adapter = get("JS")
    pseudonymizer = Pseudonymizer(b"bench federation key of 32 bytes")
    with tempfile.TemporaryDirectory() as scratch:
        url = args.postgres or f"sqlite:///{Path(scratch) / 'bench.sqlite3'}"
        upgrade(url)
        database = Database.from_url(url)
        parse_time = ingest_time = 0.0
        sample: list[tuple[object, ...]] = []
        for first in range(0, args.blocks, args.chunk):
            count = min(args.chunk, args.blocks - first)
            payload = csv_chunk(first, count)
            start = time.perf_counter()
            result = adapter.parse(payload, content_type=MEDIA, pseudonymizer=pseudonymizer)
            parse_time += time.perf_counter() - start
            assert result.ok, result.errors[:3]
            start = time.perf_counter()
            with database.unit_of_work() as session:
                records = Records(blocks=result.blocks)
                IngestService(session).ingest(
                    "JS", records, actor="bench", source="bench", schema_checked=True
                )
            ingest_time += time.perf_counter() - start
            if not sample:
                sample = [block_row(record, "raw") for record in result.blocks]
        repeats = max(1, args.blocks // len(sample))
        raw = raw_rate(database, [(f"{row[0]}-{i}", *row[1:]) for i in range(repeats) for row in sample])
        backend = database.engine.dialect.name
        total = parse_time + ingest_time
        print(f"backend {backend}, {args.blocks:,} blocks in chunks of {args.chunk:,}")
        print(f"  adapter parse (JS CSV, validated)  {args.blocks / parse_time:>12,.0f} blocks/s")
        print(f"  registry ingest (checks + insert)  {args.blocks / ingest_time:>12,.0f} blocks/s")
        print(f"  end to end                         {args.blocks / total:>12,.0f} blocks/s")
        primitive = "COPY" if backend == "postgresql" else "executemany"
        print(f"  raw {primitive:<11} of the same rows    {raw:>12,.0f} rows/s")
        print(f"  ratio end to end / raw             {args.blocks / total / raw:>12.3f}")
        print(f"  ratio ingest / raw                 {args.blocks / ingest_time / raw:>12.3f}")
        database.dispose()


if __name__ == "__main__":
    main()
