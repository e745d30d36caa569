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


def _ets(start: int, end: int, entity: str, form: str = "current") -> dict:
    """An ETS-compliance retirement, the covered entity and year in ``compliance`` (the current
    form) or in the purpose (the deprecated one, accepted until 2027-06-30)."""
    retirement = _retirement("RT-ETS", start, end)
    if form == "current":
        retirement["purpose"] = {"kind": "ets-compliance"}
        retirement["compliance"] = {"covered_entity_hash": entity, "year": 2025}
    else:
        retirement["purpose"] = {
            "kind": "ets-compliance",
            "covered_entity_hash": entity,
            "compliance_year": 2025,
        }
    retirement["beneficiary"] = {"registry": "SH", "account_id": "SH-A-ENT-0042"}
    return retirement


@pytest.mark.parametrize("form", ["current", "deprecated"])
def test_another_regions_ets_compliance_needs_that_regions_recognition(jiangsu, as_client, form) -> None:
    request = example("recognition-request", "kunshan-pv-for-shanghai-ets")
    entity = request["compliance"]["covered_entity_hash"]

    def ets(start: int, end: int, entity: str) -> dict:
        return _ets(start, end, entity, form)

    with pytest.raises(Refused) as unrecognized:
        jiangsu.post("/v1/retirements", ets(100001, 100120, entity))
    assert [e["code"] for e in unrecognized.value.errors] == ["5012"]
    pending = jiangsu.post("/v1/recognitions", {"request": request, "verified_emissions": 20000})
    as_client("operator-sh").post(
        f"/v1/recognitions/{pending['id']}/decision", {"decision": "approve", "reason": "meets the rules"}
    )
    certificate = f"RC-{pending['id']}"
    with pytest.raises(Refused) as unnamed:
        jiangsu.post("/v1/retirements", ets(100001, 100120, entity))
    assert [e["code"] for e in unnamed.value.errors] == ["3029"]  # reserved for the certificate
    with pytest.raises(Refused) as other_entity:
        jiangsu.post("/v1/retirements", ets(100001, 100120, "0" * 64) | {"certificate_id": certificate})
    assert [e["code"] for e in other_entity.value.errors] == ["5014", "3029"]
    with pytest.raises(Refused) as outside:
        jiangsu.post("/v1/retirements", ets(100100, 100130, entity) | {"certificate_id": certificate})
    assert {e["code"] for e in outside.value.errors} == {"5014"}
    used = jiangsu.post("/v1/retirements", ets(100001, 100120, entity) | {"certificate_id": certificate})
    assert used["quantity"] == 120
    assert jiangsu.get(f"/v1/recognitions/{pending['id']}")["status"] == "used"
    with pytest.raises(Refused) as again:
        jiangsu.post(
            "/v1/retirements",
            ets(100001, 100120, entity) | {"certificate_id": certificate, "retirement_id": "RT-2"},
        )
    assert [e["code"] for e in again.value.errors][:1] == ["5015"]


def _own_ets(form: str, **compliance: object) -> dict:
    """Jiangsu's own ETS compliance (no recognition needed): a retirement in ``form``."""
    retirement = _retirement("RT-OWN", 100201, 100210)
    retirement["purpose"] = {"kind": "ets-compliance"}
    retirement["beneficiary"] = {"registry": "JS", "account_id": "JS-A-ENT-7"}
    if form in ("current", "both"):
        retirement["compliance"] = {"covered_entity_hash": "a" * 64, "year": 2025}
    if form in ("deprecated", "both"):
        retirement["purpose"] |= {"covered_entity_hash": "a" * 64, "compliance_year": 2025}
    for name, value in compliance.items():
        retirement["purpose"][name] = value
    return retirement


def test_the_deprecated_form_is_answered_in_the_current_one_with_deprecation_headers(jiangsu) -> None:
    answer = jiangsu.request("POST", "/v1/retirements", json_body=_own_ets("deprecated"))
    done = answer.json()
    assert done["purpose"] == {"kind": "ets-compliance"}
    assert done["compliance"] == {"covered_entity_hash": "a" * 64, "year": 2025}
    assert answer.headers["Deprecation"] == "@1795996800"  # 2026-11-30T00:00Z, RFC 9745
    assert answer.headers["Sunset"] == "Wed, 30 Jun 2027 16:00:00 GMT"  # 2027-07-01 00:00 +08:00
    assert 'rel="deprecation"' in answer.headers["Link"]
    logged = jiangsu.get("/v1/events")["events"][-1]
    assert logged["type"] == "block.retired" and logged["data"]["purpose"] == {"kind": "ets-compliance"}


@pytest.mark.parametrize("form", ["current", "both"])
def test_the_current_form_has_no_deprecation_headers(jiangsu, form) -> None:
    answer = jiangsu.request("POST", "/v1/retirements", json_body=_own_ets(form))
    assert answer.status_code == 201
    assert answer.json()["compliance"] == {"covered_entity_hash": "a" * 64, "year": 2025}
    assert ("Deprecation" in answer.headers) is (form == "both")


@pytest.mark.parametrize(
    ("form", "change", "pointers"),
    [
        ("both", {"compliance_year": 2024}, ["/purpose/compliance_year"]),
        ("both", {"covered_entity_hash": "b" * 64}, ["/purpose/covered_entity_hash"]),
        ("deprecated", {"compliance_year": None}, ["/purpose/compliance_year"]),
        ("neither", {}, ["/compliance"]),
    ],
    ids=["years-disagree", "entities-disagree", "year-null", "neither-form"],
)
def test_a_body_saying_two_things_or_nothing_is_refused_and_changes_nothing(jiangsu, form, change, pointers):
    before = jiangsu.get("/v1/blocks")
    with pytest.raises(Refused) as refused:
        jiangsu.post("/v1/retirements", _own_ets(form, **change))
    assert refused.value.status == 422
    assert [(e["pointer"], e["code"]) for e in refused.value.errors] == [(p, "1002") for p in pointers]
    assert jiangsu.get("/v1/blocks") == before
