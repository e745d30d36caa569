"""Pledging blocks (green finance) and the operators' reports."""

from __future__ import annotations

import pytest

from hub.client import NotFound, PermissionDenied, Refused
from tests.hub.conftest import example


def test_a_pledged_block_cannot_be_recognized_until_released(jiangsu) -> None:
    block = "JS-B-2025-000001"
    assert (
        jiangsu.post(f"/v1/blocks/{block}/pledge", {"reason": "loan JS-BANK-2026-001"})["status"]
        == "encumbered"
    )
    with pytest.raises(Refused) as twice:
        jiangsu.post(f"/v1/blocks/{block}/pledge", {"reason": "again"})
    assert twice.value.code == "3023"
    request = example("recognition-request", "kunshan-pv-for-shanghai-ets")
    with pytest.raises(Refused) as refused:
        jiangsu.post("/v1/recognitions", {"request": request, "verified_emissions": 20000})
    assert "3023" in [e["code"] for e in refused.value.errors]
    assert jiangsu.post(f"/v1/blocks/{block}/release", {"reason": "loan repaid"})["status"] == "held"
    assert (
        jiangsu.post("/v1/recognitions", {"request": request, "verified_emissions": 20000})["status"]
        == "pending_review"
    )


def test_only_the_holder_pledges(jiangsu, as_client) -> None:
    with pytest.raises(NotFound):
        as_client("sh").post("/v1/blocks/JS-B-2025-000001/pledge", {"reason": "not mine"})


def test_reports_show_holdings_and_recognized_flows(jiangsu, as_client) -> None:
    request = example("recognition-request", "kunshan-pv-for-shanghai-ets")
    pending = jiangsu.post("/v1/recognitions", {"request": request, "verified_emissions": 20000})
    operator = as_client("operator-sh")
    operator.post(
        f"/v1/recognitions/{pending['id']}/decision", {"decision": "approve", "reason": "meets the rules"}
    )
    flows = operator.get("/v1/reports/flows")["flows"]
    assert flows == [
        {
            "origin": "JS",
            "destination": "SH",
            "recognized_tonnes": 120,
            "recognized_converted_tonnes": 84,
            "transferred_tonnes": 0,
            "retired_tonnes": 0,
        }
    ]
    holdings = operator.get("/v1/reports/holdings")["holdings"]
    assert holdings == [
        {
            "registry": "JS",
            "status": "held",
            "methodology": "PV-DISTRIBUTED",
            "vintage": 2025,
            "blocks": 1,
            "tonnes": 350,
        }
    ]
    with pytest.raises(PermissionDenied):
        jiangsu.get("/v1/reports/holdings")
