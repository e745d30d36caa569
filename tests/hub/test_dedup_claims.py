"""The duplicate-issuance check done in SQL: only other registries' claims on the same project
whose periods overlap are compared, whatever the project's own registry has stored. A table of
named cases, each on SQLite and PostgreSQL."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from hub.registry.ingest import BatchRefused, IngestService, Records

EXAMPLES = Path(__file__).resolve().parents[2] / "schemas" / "examples"


def _instance(kind: str, name: str) -> dict[str, Any]:
    return json.loads((EXAMPLES / kind / "valid" / f"{name}.json").read_text())["instance"]


def _ingest(database: Any, platform: str, records: Records) -> None:
    with database.unit_of_work() as session:
        IngestService(session).ingest(platform, records, actor="test", source="test")


def _block(registry: str, n: int, period: tuple[str, str], project_id: str) -> dict[str, Any]:
    block = copy.deepcopy(_instance("credit-block", "kunshan-pv-399kw"))
    start = 10_000 + n * 100
    block.update(
        {
            "block_id": f"{registry}-B-T-{n}",
            "origin_registry": registry,
            "current_registry": registry,
            "serial_namespace": registry,
            "serial_start": start,
            "serial_end": start + 9,
            "quantity": 10,
            "vintage": int(period[0][:4]),
            "project": {"registry": registry, "project_id": project_id},
            "holder": {"registry": registry, "account_id": f"{registry}-A-1"},
            "monitoring_period": {"start": period[0], "end": period[1]},
        }
    )
    return block


def _ccer_project() -> dict[str, Any]:
    project = _instance("project", "kunshan-pv-399kw")
    project.update({"registry": "CCER", "project_id": "CCER-KS-PV-0399", "registered_elsewhere": []})
    return project


@pytest.fixture
def stored(database, federation) -> Any:
    """The Kunshan plant credited by JS for 2025 in two blocks, and by CCER for 2023."""
    project = _instance("project", "kunshan-pv-399kw")
    js = [_block("JS", n, ("2025-01-01", "2025-12-31"), project["project_id"]) for n in range(2)]
    _ingest(database, "JS", Records([project], js))
    _ingest(
        database,
        "CCER",
        Records([_ccer_project()], [_block("CCER", 0, ("2023-01-01", "2023-12-31"), "CCER-KS-PV-0399")]),
    )
    return database


CASES = [
    # (name, platform, periods of the new blocks, expected (pointer, code) pairs)
    ("CCER overlapping JS by one day: one issue per stored JS block", "CCER",
     [("2025-12-31", "2026-03-31")], [("/blocks/0/project", "4001")] * 2),
    ("CCER starting the day after JS's period ends", "CCER", [("2026-01-01", "2026-12-31")], []),
    ("CCER before JS's period, after its own", "CCER", [("2024-01-01", "2024-12-31")], []),
    ("CCER again over its own 2023 claim: its own registry is never compared", "CCER",
     [("2023-06-01", "2023-06-30")], []),
    ("JS again over its own 2025 claims", "JS", [("2025-03-01", "2025-03-31")], []),
    ("JS over CCER's 2023 claim", "JS", [("2023-12-01", "2024-01-31")], [("/blocks/0/project", "4001")]),
    ("a batch of three, only the middle one overlapping", "CCER",
     [("2024-01-01", "2024-06-30"), ("2024-07-01", "2025-01-01"), ("2026-01-01", "2026-06-30")],
     [("/blocks/1/project", "4001")] * 2),
]  # fmt: skip


@pytest.mark.parametrize(("name", "platform", "periods", "expected"), CASES, ids=[c[0] for c in CASES])
def test_duplicate_issuance_compares_other_registries_overlapping_periods(
    stored, name: str, platform: str, periods: list[tuple[str, str]], expected: list[tuple[str, str]]
) -> None:
    project_id = "CCER-KS-PV-0399" if platform == "CCER" else "JS-P-KS-0399"
    blocks = [_block(platform, 10 + n, period, project_id) for n, period in enumerate(periods)]
    with stored.engine.begin() as connection:
        before = connection.execute(text("SELECT count(*) FROM issuance_claim")).scalar_one()
    if expected:
        with pytest.raises(BatchRefused) as refused:
            _ingest(stored, platform, Records(blocks=blocks))
        assert [(e["pointer"], e["code"]) for e in refused.value.errors] == expected
        after = before  # refused: nothing stored
    else:
        _ingest(stored, platform, Records(blocks=blocks))
        after = before + len(blocks)
    with stored.engine.begin() as connection:
        assert connection.execute(text("SELECT count(*) FROM issuance_claim")).scalar_one() == after


def test_stored_claims_keep_their_dates(stored) -> None:
    with stored.engine.begin() as connection:
        rows = connection.execute(
            text(
                "SELECT block_id, registry_code, period_start, period_end"
                " FROM issuance_claim ORDER BY block_id"
            )
        ).all()
    assert [(r[0], r[1], str(r[2]), str(r[3])) for r in rows] == [
        ("CCER-B-T-0", "CCER", "2023-01-01", "2023-12-31"),
        ("JS-B-T-0", "JS", "2025-01-01", "2025-12-31"),
        ("JS-B-T-1", "JS", "2025-01-01", "2025-12-31"),
    ]
