"""The claim feed read from the claims themselves (migration 0024): an ingest's issuance claims
carry its log index and their positions, its activities follow in ``claim_feed``; the merged feed
keeps the order, the cursors and the texts it had as one table — paged at any size, from any
cursor — publishes no peer's claim and nothing of a refused batch, and the database refuses a
second claim at one place of the feed. The migration carries a hub's feed over unchanged and back.
On SQLite and PostgreSQL."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
from alembic import command
from sqlalchemy import create_engine, text
from sqlalchemy.exc import IntegrityError

from hub.database import Database
from hub.migrate import alembic_config, upgrade
from hub.registry.ingest import BatchRefused, IngestService, Records
from hub.registry.repository import RegistryRepository
from hub.xdedup.repository import FeedEntry, FeedRepository
from tests.conftest import scratch_postgres

EXAMPLES = Path(__file__).resolve().parents[2] / "schemas" / "examples"
BEFORE = "0023_xtransfer"
REFUSED = (IntegrityError, psycopg.IntegrityError)  # through SQLAlchemy, or COPY on the driver


def _instance(kind: str, name: str) -> dict[str, Any]:
    instance: dict[str, Any] = json.loads((EXAMPLES / kind / "valid" / f"{name}.json").read_text())[
        "instance"
    ]
    return instance


def _shanghai(blocks: int, first: int = 1, batch_id: str = "SH-PB-1", day: int = 1) -> Records:
    """An SH project, ``blocks`` of its blocks (two monitoring periods) and a personal batch of the
    trips of November ``day`` (another day: other trips)."""
    project = _instance("project", "kunshan-pv-399kw")
    project.update(registry="SH", project_id="SH-P-KS-0399", registered_elsewhere=[])
    made = []
    for n in range(first, first + blocks):
        block = copy.deepcopy(_instance("credit-block", "kunshan-pv-399kw"))
        block.update(
            block_id=f"SH-B-{n}",
            origin_registry="SH",
            current_registry="SH",
            serial_namespace="SH",
            serial_start=n * 100,
            serial_end=n * 100 + 9,
            quantity=10,
            project={"registry": "SH", "project_id": "SH-P-KS-0399"},
            holder={"registry": "SH", "account_id": "SH-A-1"},
            monitoring_period={"start": "2025-01-01", "end": "2025-06-30" if n % 2 else "2025-12-31"},
        )
        made.append(block)
    batch_text = json.dumps(_instance("personal-reduction-batch", "shanghai-line11-anting-huaqiao"))
    for old, new in (("2025-11-02", f"2025-11-{day + 1:02d}"), ("2025-11-01", f"2025-11-{day:02d}"),
                     ("20251101", f"202511{day:02d}")):  # fmt: skip
        batch_text = batch_text.replace(old, new)
    batch = json.loads(batch_text)
    batch["batch_id"] = batch_id
    return Records(projects=[project] if first == 1 else [], blocks=made, batches=[batch])


def _ingest(database: Database, records: Records) -> int:
    with database.unit_of_work() as session:
        return IngestService(session).ingest("SH", records, actor="test", source="test").log_index


def _feed(database: Database, after: tuple[int, int] = (-1, -1), limit: int = 10_000) -> list[FeedEntry]:
    with database.unit_of_work() as session:
        return FeedRepository(session).page(after, limit)


def _text(instant: str) -> str:
    return datetime.fromisoformat(instant).isoformat()


def _expected(index: int, records: Records, fingerprint: str) -> list[FeedEntry]:
    """What the feed held for an ingest as one table: its blocks' claims, then its activities with
    the instants' text as sent (offset kept)."""
    entries = [
        FeedEntry(index, position, "issuance", "SH", block["block_id"], fingerprint, None,
                  block["monitoring_period"]["start"], block["monitoring_period"]["end"], None)
        for position, block in enumerate(records.blocks)
    ]  # fmt: skip
    for batch in records.batches:
        for item in batch["records"]:
            window = item["activity_window"]
            entries.append(
                FeedEntry(index, len(entries), "activity", "SH", f"{batch['batch_id']}/{item['record_id']}",
                          item["subject"], batch["scenario"], _text(window["start"]), _text(window["end"]),
                          item.get("trip_id"))
            )  # fmt: skip
    return entries


def _walk(database: Database, limit: int) -> list[FeedEntry]:
    """The whole feed, page by page, each from the previous page's last cursor."""
    found: list[FeedEntry] = []
    after = (-1, -1)
    while True:
        page = _feed(database, after, limit)
        assert len(page) <= limit
        found += page
        if len(page) < limit:
            return found
        after = (page[-1].log_index, page[-1].position)


def test_an_ingest_publishes_its_issuances_then_its_activities_in_order(
    database: Database, federation: Path
) -> None:
    first, second = _shanghai(5), _shanghai(3, first=6, batch_id="SH-PB-2", day=3)
    one = _ingest(database, first)
    with database.unit_of_work() as session:  # one project: one fingerprint
        (fingerprint,) = set(session.execute(text("SELECT fingerprint FROM issuance_claim")).scalars())
    two = _ingest(database, second)
    expected = _expected(one, first, fingerprint) + _expected(two, second, fingerprint)
    assert _feed(database) == expected
    assert len(expected) == 5 + 3 + 2 * len(first.batches[0]["records"])
    for limit in (1, 2, 3, 7, len(expected)):  # pages cut inside and across both sources
        assert _walk(database, limit) == expected, limit
    for n, entry in enumerate(expected):  # resuming from any cursor: exactly what follows it
        assert _feed(database, (entry.log_index, entry.position), 4) == expected[n + 1 : n + 5]
    assert _feed(database, (two + 1, -1)) == []


def test_peer_claims_and_refused_batches_are_not_published(database: Database, federation: Path) -> None:
    _ingest(database, _shanghai(2))
    before = _feed(database)
    with database.unit_of_work() as session:  # a peer's claim is stored, not served
        RegistryRepository(session).insert_issuance_claims(
            [("@hub.peer.example/GD-B-1", "GD", "ab" * 32, date(2024, 1, 1), date(2024, 12, 31))]
        )
    again = _shanghai(2, first=2, batch_id="SH-PB-9", day=5)  # SH-B-2 is registered already: 3012
    with pytest.raises(BatchRefused) as refused:
        _ingest(database, again)
    assert [e["code"] for e in refused.value.errors] == ["3012", "3011"]  # SH-B-2, nothing of SH-PB-9
    assert _feed(database) == before
    with database.unit_of_work() as session:
        published = session.execute(text("SELECT count(*) FROM issuance_claim WHERE log_index IS NULL"))
        assert published.scalar_one() == 1  # the peer's claim only


def test_the_database_refuses_a_second_claim_at_one_place_of_the_feed(
    database: Database, federation: Path
) -> None:
    index = _ingest(database, _shanghai(2))
    with pytest.raises(REFUSED), database.unit_of_work() as session:  # (log index, position) once
        RegistryRepository(session).insert_issuance_claims(
            [("SH-B-X", "SH", "cd" * 32, date(2025, 1, 1), date(2025, 1, 2))], log_index=index
        )
    with pytest.raises(REFUSED), database.unit_of_work() as session:  # issuances live in claims
        FeedRepository(session).append([(index + 1, 0, "issuance", "SH", "SH-B-Y", "cd" * 32, None,
                                          "2025-01-01", "2025-01-02", None)])  # fmt: skip
    assert len(_feed(database)) == 2 + len(_shanghai(2).batches[0]["records"])


# -- the migration, on a hub holding a feed -------------------------------------------------------


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.sqlite3'}"
        return
    from tests.conftest import POSTGRES_UNAVAILABLE

    if POSTGRES_UNAVAILABLE:
        pytest.skip(POSTGRES_UNAVAILABLE)
    with scratch_postgres(prefix="puhui_mig") as url:
        yield url


FP = "fe" * 32
OLD_CLAIMS = [  # block id, registry, start, end
    ("JS-B-1", "JS", "2025-01-01", "2025-06-30"),
    ("JS-B-2", "JS", "2025-07-01", "2025-12-31"),
    ("JS-B-3", "JS", "2026-01-01", "2026-03-31"),
    ("JS-B-0", "JS", "2024-01-01", "2024-12-31"),  # stored before the feed existed: never published
    ("@hub.gd.example/GD-B-1", "GD", "2024-01-01", "2024-12-31"),  # a peer's: never published
]
OLD_FEED = [  # three ingests: 7 (two blocks, then two activities), 9 (an activity), 12 (a block)
    (7, 0, "issuance", "JS", "JS-B-1", FP, None, "2025-01-01", "2025-06-30", None),
    (7, 1, "issuance", "JS", "JS-B-2", FP, None, "2025-07-01", "2025-12-31", None),
    (7, 2, "activity", "JS", "JS-PB-1/R-1", "ab" * 32, "TRANSIT-METRO", "2025-11-01T08:02:11+08:00",
     "2025-11-01T08:19:40+08:00", "L11-1"),
    (7, 3, "activity", "JS", "JS-PB-1/R-2", "cd" * 32, "TRANSIT-METRO", "2025-11-01T08:05:30+08:00",
     "2025-11-01T08:22:02+08:00", None),
    (9, 0, "activity", "JS", "JS-PB-2/R-1", "ab" * 32, "TRANSIT-BUS", "2025-11-02T00:00:00+00:00",
     "2025-11-02T00:30:00+00:00", None),
    (12, 0, "issuance", "JS", "JS-B-3", FP, None, "2026-01-01", "2026-03-31", None),
]  # fmt: skip
COLUMNS = "log_index, position, kind, registry_code, ref, key, scenario, starts, ends, trip_id"


def _old_hub(url: str) -> None:
    upgrade(url, BEFORE)
    engine = create_engine(url)
    with engine.begin() as connection:
        for block_id, registry, start, end in OLD_CLAIMS:
            connection.execute(
                text(
                    "INSERT INTO issuance_claim (block_id, registry_code, fingerprint, period_start,"
                    " period_end) VALUES (:b, :r, :f, :s, :e)"
                ),
                {
                    "b": block_id,
                    "r": registry,
                    "f": FP,
                    "s": date.fromisoformat(start),
                    "e": date.fromisoformat(end),
                },
            )
        for row in OLD_FEED:
            names = COLUMNS.split(", ")
            connection.execute(
                text(f"INSERT INTO claim_feed ({COLUMNS}) VALUES ({', '.join(':' + n for n in names)})"),
                dict(zip(names, row, strict=True)),
            )
    engine.dispose()


def _table_feed(url: str) -> list[tuple[Any, ...]]:
    engine = create_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(text(f"SELECT {COLUMNS} FROM claim_feed ORDER BY log_index, position"))
        found = [tuple(row) for row in rows]
    engine.dispose()
    return found


def test_the_migration_carries_the_feed_over_unchanged_and_back(empty_url: str) -> None:
    _old_hub(empty_url)
    upgrade(empty_url)
    database = Database.from_url(empty_url)
    try:
        assert _feed(database) == [FeedEntry(*row) for row in OLD_FEED]
        assert _walk(database, 1) == [FeedEntry(*row) for row in OLD_FEED]
        assert _feed(database, (7, 1), 2) == [FeedEntry(*row) for row in OLD_FEED[2:4]]
        assert [row[2] for row in _table_feed(empty_url)] == ["activity"] * 3  # the issuances moved
        with database.unit_of_work() as session:
            places = session.execute(
                text("SELECT block_id, log_index, position FROM issuance_claim ORDER BY block_id")
            ).all()
        assert [tuple(place) for place in places] == [
            ("@hub.gd.example/GD-B-1", None, None),
            ("JS-B-0", None, None),
            ("JS-B-1", 7, 0),
            ("JS-B-2", 7, 1),
            ("JS-B-3", 12, 0),
        ]
    finally:
        database.dispose()
    command.downgrade(alembic_config(empty_url), BEFORE)
    assert _table_feed(empty_url) == OLD_FEED
    upgrade(empty_url)  # and up again: the same feed
    database = Database.from_url(empty_url)
    try:
        assert _feed(database) == [FeedEntry(*row) for row in OLD_FEED]
    finally:
        database.dispose()
