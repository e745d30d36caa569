"""Retirement: final, splits the block keeping the rest, sums preserved, the origin told."""

from __future__ import annotations

import pytest

from hub.client import Refused
from tests.hub.conftest import example


def _retirement(retirement_id: str = "RT-1", start: int = 100101, end: int = 100150) -> dict:
    return {
        "retirement_id": retirement_id,
        "registry": "JS",
        "blocks": [
            {
                "block_id": "JS-B-2025-000001",
                "namespace": "JS",
                "start": start,
                "end": end,
                "quantity": end - start + 1,
                "unit": "tCO2e",
            }
        ],
        "quantity": end - start + 1,
        "unit": "tCO2e",
        "purpose": {
            "kind": "voluntary-neutralization",
            "event": "demonstration: a 2026 conference in Kunshan",
        },
        "beneficiary": {"registry": "JS", "account_id": "JS-A-EVENT-1"},
    }


def test_a_partial_retirement_splits_the_block_and_preserves_the_sum(jiangsu) -> None:
    done = jiangsu.post("/v1/retirements", _retirement())
    assert done["origin_notified"] is True
    assert isinstance(done["log_index"], int)
    blocks = {
        b["block_id"]: (b["serial_start"], b["serial_end"], b["status"]) for b in jiangsu.get("/v1/blocks")
    }
    assert blocks == {
        "JS-B-2025-000001:100001-100100": (100001, 100100, "held"),
        "JS-B-2025-000001:100101-100150": (100101, 100150, "retired"),
        "JS-B-2025-000001:100151-100350": (100151, 100350, "held"),
    }
    assert sum(end - start + 1 for start, end, _ in blocks.values()) == 350
    assert jiangsu.get("/v1/events")["events"][-1]["type"] == "block.retired"


def test_retired_is_final(jiangsu) -> None:
    jiangsu.post("/v1/retirements", _retirement(start=100001, end=100350))
    again = _retirement("RT-2", 100001, 100010)
    again["blocks"][0]["block_id"] = "JS-B-2025-000001"
    with pytest.raises(Refused) as refused:
        jiangsu.post("/v1/retirements", again)
    assert refused.value.errors[0]["code"] == "3021"


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"registry": "SH"}, "2004"),
        ({"quantity": 49}, "3003"),
    ],
)
def test_bad_retirements_change_nothing(jiangsu, change, code) -> None:
    with pytest.raises(Refused) as refused:
        jiangsu.post("/v1/retirements", {**_retirement(), **change})
    assert code in {refused.value.code, *[e["code"] for e in refused.value.errors]}
    assert [b["block_id"] for b in jiangsu.get("/v1/blocks")] == ["JS-B-2025-000001"]


def test_serials_under_a_pending_recognition_are_not_retired(jiangsu) -> None:
    request = example("recognition-request", "kunshan-pv-for-shanghai-ets")
    jiangsu.post("/v1/recognitions", {"request": request, "verified_emissions": 20000})
    with pytest.raises(Refused) as refused:
        jiangsu.post("/v1/retirements", _retirement(start=100100, end=100130))
    assert [e["code"] for e in refused.value.errors] == ["3026"]
    assert jiangsu.post("/v1/retirements", _retirement(start=100121, end=100130))["quantity"] == 10


def test_a_pledged_block_is_not_retired(jiangsu) -> None:
    jiangsu.post("/v1/blocks/JS-B-2025-000001/pledge", {"reason": "loan 2026-001"})
    with pytest.raises(Refused) as refused:
        jiangsu.post("/v1/retirements", _retirement())
    assert "3023" in [e["code"] for e in refused.value.errors]


def _ets(start: int, end: int, entity: str) -> dict:
    retirement = _retirement("RT-ETS", start, end)
    retirement["purpose"] = {"kind": "ets-compliance", "covered_entity_hash": entity, "compliance_year": 2025}
    retirement["beneficiary"] = {"registry": "SH", "account_id": "SH-A-ENT-0042"}
    return retirement


def test_another_regions_ets_compliance_needs_that_regions_recognition(jiangsu, as_client) -> None:
    request = example("recognition-request", "kunshan-pv-for-shanghai-ets")
    entity = request["compliance"]["covered_entity_hash"]
    with pytest.raises(Refused) as unrecognized:
        jiangsu.post("/v1/retirements", _ets(100001, 100120, entity))
    assert [e["code"] for e in unrecognized.value.errors] == ["5012"]
    pending = jiangsu.post("/v1/recognitions", {"request": request, "verified_emissions": 20000})
    as_client("operator-sh").post(
        f"/v1/recognitions/{pending['id']}/decision", {"decision": "approve", "reason": "meets the rules"}
    )
    certificate = f"RC-{pending['id']}"
    with pytest.raises(Refused) as unnamed:
        jiangsu.post("/v1/retirements", _ets(100001, 100120, entity))
    assert [e["code"] for e in unnamed.value.errors] == ["3029"]  # reserved for the certificate
    with pytest.raises(Refused) as other_entity:
        jiangsu.post("/v1/retirements", _ets(100001, 100120, "0" * 64) | {"certificate_id": certificate})
    assert [e["code"] for e in other_entity.value.errors] == ["5014", "3029"]
    with pytest.raises(Refused) as outside:
        jiangsu.post("/v1/retirements", _ets(100100, 100130, entity) | {"certificate_id": certificate})
    assert {e["code"] for e in outside.value.errors} == {"5014"}
    used = jiangsu.post("/v1/retirements", _ets(100001, 100120, entity) | {"certificate_id": certificate})
    assert used["quantity"] == 120
    assert jiangsu.get(f"/v1/recognitions/{pending['id']}")["status"] == "used"
    with pytest.raises(Refused) as again:
        jiangsu.post(
            "/v1/retirements",
            _ets(100001, 100120, entity) | {"certificate_id": certificate, "retirement_id": "RT-2"},
        )
    assert [e["code"] for e in again.value.errors][:1] == ["5015"]
