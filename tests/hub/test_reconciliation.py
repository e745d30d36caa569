"""Reconciliation: totals, unit blocks, audit trail; discrepancies reported, never fixed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import text

from hub.client import NotFound, Refused

EXAMPLES = Path(__file__).resolve().parents[2] / "schemas" / "examples"
FORM = "application/vnd.puhui.records+json"


@pytest.fixture
def jiangsu(as_client):
    platform = as_client("js")
    block = json.loads((EXAMPLES / "credit-block/valid/kunshan-pv-399kw.json").read_text())["instance"]
    platform.request(
        "POST",
        "/v1/platforms/JS/batches",
        content=json.dumps({"blocks": [block]}).encode(),
        content_type=FORM,
    )
    return platform


BLOCK = {
    "block_id": "JS-B-2025-000001",
    "serial_start": 100001,
    "serial_end": 100350,
    "quantity": 350,
    "status": "held",
}


def test_matching_holdings_complete(jiangsu) -> None:
    report = jiangsu.post("/v1/reconciliations", {"totals": {"blocks": 1, "tonnes": 350}, "blocks": [BLOCK]})
    assert report["status"] == "completed"
    assert report["discrepancies"] == []
    assert jiangsu.get(f"/v1/reconciliations/{report['id']}")["status"] == "completed"


@pytest.mark.parametrize(
    ("submission", "status", "codes"),
    [
        (
            {"totals": {"blocks": 1, "tonnes": 351}, "blocks": [BLOCK]},
            "totals_inconsistent",
            {"7001", "7004"},
        ),
        (
            {"totals": {"blocks": 1, "tonnes": 350}, "blocks": [{**BLOCK, "status": "retired"}]},
            "unit_blocks_inconsistent",
            {"7003"},
        ),
        (
            {"totals": {"blocks": 1, "tonnes": 350}, "blocks": [{**BLOCK, "block_id": "JS-B-X"}]},
            "unit_blocks_inconsistent",
            {"7002"},
        ),
    ],
    ids=["totals", "status-differs", "unknown-block"],
)
def test_discrepancies_are_reported_not_fixed(jiangsu, submission, status, codes) -> None:
    report = jiangsu.post("/v1/reconciliations", submission)
    assert report["status"] == status
    assert {d["code"] for d in report["discrepancies"]} == codes
    assert jiangsu.get("/v1/blocks/JS-B-2025-000001")["status"] == "held"


def test_the_audit_trail_stage_catches_a_registry_change_without_its_log_entry(jiangsu, database) -> None:
    with database.engine.begin() as connection:
        connection.execute(text("UPDATE ingest_batch SET digest = 'ff' WHERE platform = 'JS'"))
    report = jiangsu.post("/v1/reconciliations", {"totals": {"blocks": 1, "tonnes": 350}, "blocks": [BLOCK]})
    assert report["status"] == "audit_trail_inconsistent"
    assert [d["code"] for d in report["discrepancies"]] == ["7005"]


def test_an_operator_resolves_after_manual_intervention_once(jiangsu, as_client) -> None:
    report = jiangsu.post("/v1/reconciliations", {"totals": {"blocks": 0, "tonnes": 0}, "blocks": []})
    operator = as_client("operator-js")
    resolved = operator.post(
        f"/v1/reconciliations/{report['id']}/resolve", {"note": "platform re-exported its inventory"}
    )
    assert resolved["status"] == "completed_after_manual_intervention"
    assert resolved["resolved_by"] == "operator-js"
    with pytest.raises(Refused) as again:
        operator.post(f"/v1/reconciliations/{report['id']}/resolve", {"note": "twice"})
    assert again.value.code == "7006"
    with pytest.raises(NotFound):
        as_client("sh").get(f"/v1/reconciliations/{report['id']}")
