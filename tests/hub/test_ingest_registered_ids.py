"""A registered block id is refused by credit_block's primary key during the insert (no look-up
before it): the answer is still the checks' own (3012 with its pointer, with every other reason,
in order), mid-COPY as on the first row, and nothing of the batch stays — its other blocks, claims,
feed entries, log entry. Concurrent writers of one id in two namespaces (not serialized by a
namespace lock): one is stored, the other refused with 3012. On SQLite and PostgreSQL."""

from __future__ import annotations

import copy
import json
import threading
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from hub.database import Database
from hub.registry.ingest import BatchRefused, IngestService, Records, batch_digest
from hub.registry.repository import RegistryRepository

EXAMPLES = Path(__file__).resolve().parents[2] / "schemas" / "examples"
TABLES = ("credit_block", "issuance_claim", "claim_feed", "ingest_batch", "log_entry", "project")


def _example(kind: str, name: str) -> dict[str, Any]:
    found: dict[str, Any] = json.loads((EXAMPLES / kind / "valid" / f"{name}.json").read_text())["instance"]
    return found


def _blocks(
    count: int, first_serial: int, prefix: str = "JS-B-N", registry: str = "JS"
) -> list[dict[str, Any]]:
    blocks = []
    for n in range(count):
        block = copy.deepcopy(_example("credit-block", "kunshan-pv-399kw"))
        start = first_serial + n * 10
        block.update(block_id=f"{prefix}-{n}", serial_start=start, serial_end=start + 9, quantity=10)
        if registry != "JS":
            block.update(origin_registry=registry, current_registry=registry, serial_namespace=registry)
        blocks.append(block)
    return blocks


def _counts(database: Database) -> dict[str, int]:
    with database.unit_of_work() as session:
        return {
            table: session.execute(text(f"SELECT count(*) FROM {table}")).scalar_one() for table in TABLES
        }


def _ingest(database: Database, platform: str, records: Records) -> dict[str, Any]:
    with database.unit_of_work() as session:
        return IngestService(session).ingest(platform, records, actor="test", source="test").as_dict()


def _checked(database: Database, platform: str, records: Records) -> list[dict[str, str]]:
    """What the checks alone answer for ``records`` (every look-up made first)."""
    with database.unit_of_work() as session:
        return [issue.as_dict() for issue in IngestService(session).check(platform, records)]


def _stored(database: Database) -> Records:
    project = _example("project", "kunshan-pv-399kw")
    registered = Records(projects=[project], blocks=_blocks(3, 1_000_000, prefix="JS-B-OLD"))
    _ingest(database, "JS", registered)
    return registered


@pytest.mark.parametrize("where", [0, 1, 2_499, 2_999], ids=["first", "second", "mid-copy", "last"])
def test_a_registered_id_with_new_serials_gets_the_checks_answer_and_stores_nothing(
    database: Database, federation: Path, where: int
) -> None:
    _stored(database)
    before = _counts(database)
    blocks = _blocks(3_000, 5_000_000)
    blocks[where]["block_id"] = "JS-B-OLD-1"  # registered, its serials far from these
    records = Records(blocks=blocks)
    with pytest.raises(BatchRefused) as refused:
        _ingest(database, "JS", records)
    assert refused.value.status == 422 and refused.value.code == "3012"
    assert refused.value.errors == [
        {
            "pointer": f"/blocks/{where}/block_id",
            "code": "3012",
            "detail": "block JS-B-OLD-1 is already registered",
        }
    ]
    assert refused.value.errors == _checked(database, "JS", records)
    assert _counts(database) == before
    blocks[where]["block_id"] = "JS-B-NEW"  # the same batch, its id free: stored whole
    assert _ingest(database, "JS", records)["blocks"] == 3_000
    assert _counts(database)["credit_block"] == before["credit_block"] + 3_000


def test_registered_ids_with_other_reasons_are_all_named_in_order(
    database: Database, federation: Path
) -> None:
    _stored(database)
    before = _counts(database)
    blocks = _blocks(50, 5_000_000)
    blocks[7]["block_id"] = "JS-B-OLD-2"
    blocks[31]["block_id"] = "JS-B-OLD-0"
    blocks[40].update(serial_start=999_995, serial_end=1_000_004)  # into JS-B-OLD-0's serials: 3011
    records = Records(blocks=blocks)
    with pytest.raises(BatchRefused) as refused:
        _ingest(database, "JS", records)
    assert [(e["pointer"], e["code"]) for e in refused.value.errors] == [
        ("/blocks/7/block_id", "3012"),
        ("/blocks/31/block_id", "3012"),
        ("/blocks/40/serial_start", "3011"),
    ]
    assert refused.value.errors == _checked(database, "JS", records)
    assert _counts(database) == before
    blocks[40].update(serial_start=9_000_005, serial_end=9_000_014)  # the 3011 gone: the key finds both
    with pytest.raises(BatchRefused) as again:
        _ingest(database, "JS", records)
    assert [(e["pointer"], e["code"]) for e in again.value.errors] == [
        ("/blocks/7/block_id", "3012"),
        ("/blocks/31/block_id", "3012"),
    ]
    assert _counts(database) == before


def test_the_digest_of_a_streamed_insert_is_the_batch_digest(database: Database, federation: Path) -> None:
    registered = _stored(database)
    with database.unit_of_work() as session:
        stored = session.execute(text("SELECT digest FROM ingest_batch")).scalar_one()
    assert stored == batch_digest(registered)[0]
    empty = Records(projects=[dict(_example("project", "kunshan-pv-399kw"), project_id="JS-P-OTHER")])
    assert _ingest(database, "JS", empty)["digest"]["value"] == batch_digest(empty)[0]  # no block to stream


def test_concurrent_writers_of_one_id_in_two_namespaces_one_wins_the_other_gets_3012(
    database: Database, federation: Path
) -> None:
    outcomes: list[str] = []
    barrier = threading.Barrier(4)

    def write(platform: str, serial: int) -> None:
        blocks = _blocks(200, serial, prefix=f"{platform}-B", registry=platform)
        blocks[150]["block_id"] = "SHARED-B-1"  # one id, global across namespaces
        barrier.wait()
        try:
            _ingest(database, platform, Records(blocks=blocks))
            outcomes.append("stored")
        except BatchRefused as refused:
            outcomes.append(",".join(e["code"] for e in refused.errors))

    threads = [
        threading.Thread(target=write, args=(platform, serial))
        for platform, serial in (("JS", 1), ("SH", 1), ("JS", 100_000), ("SH", 100_000))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # the winner's other blocks are JS-B-* or SH-B-*: a loser of its own namespace also meets them
    assert len(outcomes) == 4 and outcomes.count("stored") == 1
    assert all(
        outcome != "stored" and outcome.startswith("3012") for outcome in outcomes if outcome != "stored"
    )
    assert _counts(database)["credit_block"] == 200


def test_a_key_refusal_the_checks_cannot_explain_is_the_drivers_error_and_stores_nothing(
    database: Database, federation: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Were the id look-up blind (it is not), the key's refusal would surface as the write conflict
    it is — the driver's integrity error (409 6001 over HTTP on SQLite) — never as a stored batch."""
    _stored(database)
    before = _counts(database)
    monkeypatch.setattr(RegistryRepository, "existing_block_ids", lambda self, ids: set())
    blocks = _blocks(100, 5_000_000)
    blocks[60]["block_id"] = "JS-B-OLD-1"
    with pytest.raises((IntegrityError, psycopg.errors.UniqueViolation)):
        _ingest(database, "JS", Records(blocks=blocks))
    assert _counts(database) == before
