"""Migration 0013 on data of the hub before it: the holds of the old tables become serial claims
(a double hold carried over inactive, never two active claims), nested piece ids become flat, and
transfers follow the renames. On SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from hub.migrate import upgrade
from tests.conftest import scratch_postgres

NOW = "2026-11-01 00:00:00+00:00"


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


def _block(block_id: str, registry: str, start: int, end: int, status: str) -> dict[str, object]:
    record = {"block_id": block_id, "serial_start": start, "serial_end": end, "status": status}
    return {
        "block_id": block_id, "origin": "JS", "current": registry, "start": start, "end": end,
        "quantity": end - start + 1, "status": status, "record": json.dumps(record),
    }  # fmt: skip


OLD_BLOCKS = [
    _block("JS-1", "JS", 1, 100, "held"),  # never split
    _block("JS-2:1-10", "JS", 1001, 1010, "retired"),  # a retired piece (nested once)
    _block("JS-2:1-10:11-20", "JS", 1011, 1020, "exported"),  # nested twice
    _block("SH:JS-2:1-10:11-20", "SH", 1011, 1020, "imported"),  # imported, nested
    _block("JS-3:5-9", "JS", 2005, 2009, "locked"),  # locked by an in-flight transfer
    _block("JS-4", "JS", 3001, 3050, "encumbered"),  # pledged
]


def _old_hub(url: str) -> None:
    upgrade(url, "0012")
    engine = create_engine(url)
    with engine.begin() as connection:
        for block in OLD_BLOCKS:
            connection.execute(
                text(
                    "INSERT INTO credit_block (block_id, origin_registry, current_registry, serial_namespace,"
                    " serial_start, serial_end, quantity, vintage, catalogue_id, project_registry,"
                    " project_id,"
                    " holder_account, status, record, batch_id) VALUES (:block_id, :origin, :current, 'JS',"
                    " :start, :end, :quantity, 2025, 'PV', 'JS', 'P', 'A', :status, :record, 'b')"
                ),
                block,
            )
        for recognition, status in [
            ("r-pending", "pending_review"),
            ("r-approved", "approved"),
            ("r-no", "rejected"),
        ]:
            connection.execute(
                text(
                    "INSERT INTO recognition (id, request_id, origin, destination, purpose, status, quantity,"
                    " converted_quantity, request, evaluation, checks, approvals, requested_by, created_at)"
                    " VALUES (:id, :id, 'JS', 'SH', 'ets-compliance', :status, 1, 1, '{}', '{}', '[]', '[]',"
                    " 'js', :now)"
                ),
                {"id": recognition, "status": status, "now": NOW},
            )
        serials = [
            ("r-pending", 1, 10, True),
            ("r-approved", 11, 20, True),
            ("r-no", 21, 30, False),
            ("r-pending", 3001, 3005, True),
        ]  # fmt: skip — the last overlaps the pledge: a double hold
        for recognition, start, end, active in serials:
            connection.execute(
                text("INSERT INTO recognized_serials VALUES (:id, 'JS', :start, :end, :active)"),
                {"id": recognition, "start": start, "end": end, "active": active},
            )
        connection.execute(
            text("INSERT INTO transfer_serials VALUES ('TR-1', 'JS', 2005, 2009, :t)"), {"t": True}
        )
        connection.execute(
            text(
                "INSERT INTO transfer (id, client_id, idempotency_key, body_hash, origin, destination, state,"
                " itl_status, quantity, request, history, attempts, next_attempt_at, deadline, created_at)"
                " VALUES ('TR-1', 'js', 'k', 'h', 'JS', 'SH', 'origin_locked', 8, 5, :request, '[]', 0,"
                " :now, :now, :now)"
            ),
            {"request": json.dumps({"blocks": [], "pieces": ["JS-3:5-9"]}), "now": NOW},
        )
    engine.dispose()


def test_old_holds_become_claims_and_ids_become_flat(empty_url: str) -> None:
    _old_hub(empty_url)
    upgrade(empty_url)
    engine = create_engine(empty_url)
    with engine.connect() as connection:
        claims = connection.execute(
            text(
                "SELECT kind, owner_id, serial_start, serial_end, active FROM serial_claim"
                " ORDER BY serial_start"
            )
        ).all()
        ids = dict(connection.execute(text("SELECT block_id, root_block_id FROM credit_block")).all())
        request = connection.execute(text("SELECT request FROM transfer WHERE id = 'TR-1'")).scalar_one()
    engine.dispose()
    active = [(kind, owner, start, end) for kind, owner, start, end, on in claims if on]
    assert active == [
        ("recognition", "r-pending", 1, 10),
        ("certificate", "RC-r-approved", 11, 20),
        ("retirement", "block:JS-2:1001-1010", 1001, 1010),
        ("transfer", "TR-1", 2005, 2009),
        ("pledge", "block:JS-4", 3001, 3050),
    ] or active == [
        ("recognition", "r-pending", 1, 10),
        ("certificate", "RC-r-approved", 11, 20),
        ("retirement", "block:JS-2:1-10", 1001, 1010),
        ("transfer", "TR-1", 2005, 2009),
        ("pledge", "block:JS-4", 3001, 3050),
    ]
    assert ("recognition", "r-pending", 3001, 3005, False) in [tuple(c) for c in claims], "the double hold"
    assert ids == {
        "JS-1": None,
        "JS-2:1001-1010": "JS-2",
        "JS-2:1011-1020": "JS-2",
        "SH:JS-2:1011-1020": "JS-2",
        "JS-3:2005-2009": "JS-3",
        "JS-4": None,
    }
    pieces = (json.loads(request) if isinstance(request, str) else request)["pieces"]
    assert pieces == ["JS-3:2005-2009"]
