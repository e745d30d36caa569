"""Bulk ingest through an adapter, beside the raw insert of prebuilt rows into the real table.

    .venv/bin/python -m bench.ingest                       # 100,000 blocks, SQLite
    .venv/bin/python -m bench.ingest --postgres postgresql+psycopg://postgres@127.0.0.1:5432/postgres

A Jiangsu CSV export (GBK) of N blocks of the registered Kunshan PV project goes through the JS
adapter (decoding, the fast reader, batch checks) and the registry's ingest (issuer, duplicate,
id and serial-overlap checks, the duplicate-issuance check and the block's claim, the digest, one
COPY / executemany, one log entry), in chunks of ``--chunk`` rows, one transaction each: the end
to end rate. The raw primitive is the same number of rows, prebuilt (record text serialized
before the clock starts), inserted in the same chunks into the real ``credit_block`` table with
its indexes, by executemany through the driver (SQLite and PostgreSQL) and by COPY (PostgreSQL).
Targets (issue 14): end to end ≥ 0.5 of the raw insert on SQLite, ≥ 0.6 of the raw COPY on
PostgreSQL. Beside each rate: the CPU per item of this process in the clocked sections and, for a
PostgreSQL on this machine, of the database's backends (from /proc) — steadier than wall rates on
a loaded machine — and the load average.
"""

from __future__ import annotations

import argparse
import os
import time
from typing import Any

import orjson
from sqlalchemy import text

from adapters.base import BaseAdapter, parse_stream
from adapters.privacy import Pseudonymizer
from adapters.registry import get
from bench.databases import bench_database
from hub.database import Database
from hub.migrate import upgrade
from hub.registry.ingest import IngestService, Records
from hub.registry.repository import BLOCK_COLUMNS

HEADER = (
    "签发编号,项目编号,方法学代码,年度,监测期开始,监测期结束,减排量（吨）,起始序列号,终止序列号,持有账户,状态,"
    "状态说明,排放因子,排放因子单位,排放因子来源,排放因子年份,签发时间,原始登记簿,当前登记簿,协同效益,乡村振兴,演示数据"
)
MEDIA = "text/csv; charset=gbk"
PSEUDONYMIZER = Pseudonymizer(b"bench federation key of 32 bytes")


def csv_chunk(first: int, count: int, prefix: str = "JS-B-BENCH") -> bytes:
    rows = [HEADER]
    for n in range(first, first + count):
        start = 1 + n * 10
        rows.append(
            f"{prefix}-{n:09d},JS-P-KS-0399,JS-PV-DIST,2025,2025/1/1,2025/12/31,10.000,{start},{start + 9},"
            "JS-A-KSPV-001,持有,,0.5978,kgCO2/kWh,MEE/NBS announcement 2024 No. 33,2022,2026-02-10 09:30:00,"
            "JS,JS,,否,是"
        )
    return ("\n".join(rows) + "\n").encode("gbk")


def register_project(database: Database) -> None:
    """The Kunshan PV project, from the JS adapter's fixture: its blocks are dedup-checked."""
    adapter = get("JS")
    assert isinstance(adapter, BaseAdapter)
    payload = (adapter.fixture_dir() / "good" / "projects-2025.csv").read_bytes()
    parsed = adapter.parse(payload, content_type=MEDIA, pseudonymizer=PSEUDONYMIZER)
    assert parsed.ok, parsed.errors[:3]
    with database.unit_of_work() as session:
        IngestService(session).ingest(
            "JS", Records(projects=parsed.projects), actor="bench", source="bench", schema_checked=True
        )


CPU = [0.0, 0.0]  # CPU seconds inside the clocked sections of the last measurement: ours, the server's
TICK = os.sysconf("SC_CLK_TCK")


def server_cpu(database: Database) -> dict[int, float]:
    """CPU seconds so far of each PostgreSQL backend of the bench's database, when the server runs
    on this machine (read from /proc); nothing on SQLite or a remote server."""
    if database.engine.dialect.name != "postgresql":
        return {}
    with database.engine.connect() as connection:
        pids = connection.execute(
            text("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
        ).scalars()
        found = {}
        for pid in pids:
            try:
                fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()  # noqa: SIM115
            except OSError:
                continue
            found[pid] = (int(fields[11]) + int(fields[12])) / TICK  # utime, stime
    return found


def _server_delta(before: dict[int, float], after: dict[int, float]) -> float:
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


def ingest_rate(database: Database, first: int, blocks: int, chunk: int, prefix: str = "JS-B-BENCH") -> float:
    """Blocks per second through the JS adapter and the registry, payloads built off the clock."""
    adapter = get("JS")
    elapsed = CPU[0] = CPU[1] = 0.0
    for start in range(first, first + blocks, chunk):
        payload = csv_chunk(start, min(chunk, first + blocks - start), prefix)
        server = server_cpu(database)
        began, cpu = time.perf_counter(), time.process_time()
        stream = parse_stream(adapter, payload, content_type=MEDIA, pseudonymizer=PSEUDONYMIZER)
        with database.unit_of_work() as session:
            IngestService(session).ingest_stream("JS", stream, actor="bench", source="bench")
        elapsed += time.perf_counter() - began
        CPU[0] += time.process_time() - cpu
        CPU[1] += _server_delta(server, server_cpu(database))
    return blocks / elapsed


def prebuilt_rows(count: int, tag: str) -> list[tuple[object, ...]]:
    """Rows of credit_block as ingest writes them, the record text serialized in advance; their
    own namespace so they never meet the ingested blocks."""
    adapter = get("JS")
    sample = adapter.parse(csv_chunk(0, 1), content_type=MEDIA, pseudonymizer=PSEUDONYMIZER).blocks[0]
    text_ = orjson.dumps(sample).decode()
    return [
        (f"RAW-{tag}-{n}", "RAW", "RAW", "RAW", 1 + n * 10, 10 + n * 10, 10, 2025, "PV-DISTRIBUTED", "JS",
         "JS-P-KS-0399", "JS-A-KSPV-001", "held", text_, "raw")
        for n in range(count)
    ]  # fmt: skip


def raw_insert_rate(database: Database, rows: list[tuple[object, ...]], chunk: int, *, copy: bool) -> float:
    """Prebuilt rows into the real credit_block, in chunks of one transaction each."""
    columns = ", ".join(BLOCK_COLUMNS)
    elapsed = CPU[0] = CPU[1] = 0.0
    for first in range(0, len(rows), chunk):
        part = rows[first : first + chunk]
        server = server_cpu(database)
        began, cpu = time.perf_counter(), time.process_time()
        with database.engine.begin() as connection:
            driver: Any = connection.connection.driver_connection
            if copy:
                with (
                    driver.cursor() as cursor,
                    cursor.copy(f"COPY credit_block ({columns}) FROM STDIN") as out,
                ):
                    for row in part:
                        out.write_row(row)
            elif database.engine.dialect.name == "postgresql":
                marks = ", ".join(["%s"] * len(BLOCK_COLUMNS))
                with driver.cursor() as cursor:
                    cursor.executemany(f"INSERT INTO credit_block ({columns}) VALUES ({marks})", part)
            else:
                marks = ", ".join("?" * len(BLOCK_COLUMNS))
                driver.executemany(f"INSERT INTO credit_block ({columns}) VALUES ({marks})", part)
        elapsed += time.perf_counter() - began
        CPU[0] += time.process_time() - cpu
        CPU[1] += _server_delta(server, server_cpu(database))
    return len(rows) / elapsed


def _cpu(items: int) -> str:
    """CPU per item of the last measurement: ours, and the server's backends' when known."""
    ours = f"CPU {CPU[0] / items * 1e6:5.1f} µs"
    return f"{ours} + server {CPU[1] / items * 1e6:5.1f} µs" if CPU[1] else ours


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--blocks", type=int, default=100_000)
    parser.add_argument("--chunk", type=int, default=20_000)
    parser.add_argument("--postgres", help="PostgreSQL URL: run in a scratch database on its server")
    args = parser.parse_args()
    with bench_database(args.postgres) as url:
        upgrade(url)
        database = Database.from_url(url)
        backend = database.engine.dialect.name
        register_project(database)
        ingest_rate(database, 10**8, args.chunk, args.chunk, "JS-B-WARM")  # warm caches and plans
        ours = ingest_rate(database, 0, args.blocks, args.chunk)
        ours_cpu = _cpu(args.blocks)
        raw = raw_insert_rate(database, prebuilt_rows(args.blocks, "many"), args.chunk, copy=False)
        raw_cpu = _cpu(args.blocks)
        print(f"backend {backend}, {args.blocks:,} blocks in chunks of {args.chunk:,} (one transaction each)")
        print(f"  ingest through the JS adapter, dedup-checked  {ours:>10,.0f} blocks/s   {ours_cpu}")
        print(
            f"  raw executemany into credit_block             {raw:>10,.0f} rows/s   ratio {ours / raw:5.2f}   {raw_cpu}"
        )
        if backend == "postgresql":
            copied = raw_insert_rate(database, prebuilt_rows(args.blocks, "copy"), args.chunk, copy=True)
            print(
                f"  raw COPY into credit_block                    {copied:>10,.0f} rows/s   ratio {ours / copied:5.2f}"
                f"   {_cpu(args.blocks)}"
            )
        print(f"  (load average {os.getloadavg()[0]:.2f} at the end)")
        with database.engine.begin() as connection:
            stored = connection.execute(text("SELECT count(*) FROM issuance_claim")).scalar_one()
        print(f"  ({stored:,} issuance claims stored: every block was dedup-checked)")
        database.dispose()


if __name__ == "__main__":
    main()
