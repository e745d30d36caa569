"""Activity-level deduplication in the registry: a project credited by two registries for
overlapping periods (CCER included) and a personal trip counted by two platforms are refused."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from hub.registry.ingest import BatchRefused, IngestService, Records

EXAMPLES = Path(__file__).resolve().parents[2] / "schemas" / "examples"


def _instance(kind: str, name: str) -> dict:
    return json.loads((EXAMPLES / kind / "valid" / f"{name}.json").read_text())["instance"]


def _ingest(database, platform: str, records: Records) -> None:
    with database.unit_of_work() as session:
        IngestService(session).ingest(platform, records, actor="test", source="test")


def _ccer_listing(period_start: str = "2025-06-01") -> Records:
    project = _instance("project", "kunshan-pv-399kw")
    project.update({"registry": "CCER", "project_id": "CCER-KS-PV-0399", "registered_elsewhere": []})
    block = _instance("credit-block", "kunshan-pv-399kw")
    block.update(
        {
            "block_id": "CCER-B-KS-1",
            "origin_registry": "CCER",
            "current_registry": "CCER",
            "serial_namespace": "CCER",
            "project": {"registry": "CCER", "project_id": "CCER-KS-PV-0399"},
            "holder": {"registry": "CCER", "account_id": "CCER-A-1"},
            "monitoring_period": {"start": period_start, "end": "2025-12-31"},
        }
    )
    return Records(projects=[project], blocks=[block])


def test_the_same_plant_credited_by_ccer_for_an_overlapping_period_is_double_issuance(
    database, federation
) -> None:
    _ingest(
        database,
        "JS",
        Records([_instance("project", "kunshan-pv-399kw")], [_instance("credit-block", "kunshan-pv-399kw")]),
    )
    with pytest.raises(BatchRefused) as refused:
        _ingest(database, "CCER", _ccer_listing())
    assert [(e["pointer"], e["code"]) for e in refused.value.errors] == [("/blocks/0/project", "4001")]
    assert "JS" in refused.value.errors[0]["detail"]


def test_a_later_period_of_the_same_plant_is_not_double_issuance(database, federation) -> None:
    _ingest(
        database,
        "JS",
        Records([_instance("project", "kunshan-pv-399kw")], [_instance("credit-block", "kunshan-pv-399kw")]),
    )
    later = _ccer_listing()
    later.blocks[0]["monitoring_period"] = {"start": "2026-01-01", "end": "2026-06-30"}
    later.blocks[0]["vintage"] = 2026
    _ingest(database, "CCER", later)


def _trips(platform: str, batch_id: str) -> Records:
    batch = copy.deepcopy(_instance("personal-reduction-batch", "shanghai-line11-anting-huaqiao"))
    batch["platform"] = platform
    batch["batch_id"] = batch_id
    return Records(batches=[batch])


def test_a_metro_trip_counted_by_two_platforms_is_counted_once(database, federation) -> None:
    _ingest(database, "SH", _trips("SH", "SH-PB-1"))
    with pytest.raises(BatchRefused) as refused:
        _ingest(database, "ZJ", _trips("ZJ", "ZJ-PB-1"))
    assert {e["code"] for e in refused.value.errors} == {"4002"}
    assert refused.value.errors[0]["pointer"].startswith("/batches/0/records/")


def test_the_dry_run_reports_without_storing(as_client, database, federation) -> None:
    _ingest(
        database,
        "JS",
        Records([_instance("project", "kunshan-pv-399kw")], [_instance("credit-block", "kunshan-pv-399kw")]),
    )
    ccer = as_client("ccer")
    listing = _ccer_listing()
    body = {"projects": listing.projects, "blocks": listing.blocks}
    answer = ccer.request(
        "POST", "/v1/dedup/check", content=json.dumps(body).encode(), content_type="application/json"
    ).json()
    assert answer["clear"] is False
    assert [issue["code"] for issue in answer["issues"]] == ["4001"]
    assert ccer.get("/v1/blocks") == []
    clean = ccer.request(
        "POST",
        "/v1/dedup/check",
        content=json.dumps({"blocks": [], "projects": []}).encode(),
        content_type="application/json",
    ).json()
    assert clean == {"clear": True, "issues": []}


def test_a_trip_without_trip_ids_is_compared_by_its_instants_whatever_their_offsets(
    database, federation
) -> None:
    """SQLite keeps no offset: windows are stored in UTC, so +08:00 and Z instants compare exactly."""
    _ingest(database, "SH", _trips("SH", "SH-PB-1"))
    zhejiang = _trips("ZJ", "ZJ-PB-1")
    for record in zhejiang.batches[0]["records"]:
        record.pop("trip_id", None)
        for end in ("start", "end"):
            moment = datetime.fromisoformat(record["activity_window"][end]).astimezone(UTC)
            record["activity_window"][end] = moment.isoformat()
    with pytest.raises(BatchRefused) as refused:
        _ingest(database, "ZJ", zhejiang)
    assert {e["code"] for e in refused.value.errors} == {"4002"}
