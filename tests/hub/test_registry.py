"""Ingesting exchange records into the block registry: all or nothing, checks with pointers and
codes, serial overlaps refused by the database under concurrent writers."""

from __future__ import annotations

import copy
import json
import threading
from pathlib import Path

import pytest

from hub.client import NotFound, Refused
from hub.registry.ingest import BatchRefused, IngestService, Records

EXAMPLES = Path(__file__).resolve().parents[2] / "schemas" / "examples"
FORM = "application/vnd.puhui.records+json"


def _example(kind: str, name: str) -> dict:
    return json.loads((EXAMPLES / kind / "valid" / f"{name}.json").read_text())["instance"]


def _block(**changes: object) -> dict:
    block = _example("credit-block", "kunshan-pv-399kw")
    block.update(changes)
    return block


def _send(platform, records: dict):
    body = json.dumps(records, ensure_ascii=False).encode()
    return platform.request("POST", "/v1/platforms/JS/batches", content=body, content_type=FORM)


def test_a_batch_is_stored_and_visible_to_its_issuer_only(as_client) -> None:
    jiangsu = as_client("js")
    project = _example("project", "kunshan-pv-399kw")
    report = _send(jiangsu, {"projects": [project], "blocks": [_block()]}).json()
    assert (report["projects"], report["blocks"], report["tonnes"]) == (1, 1, 350)
    stored = jiangsu.get("/v1/blocks/JS-B-2025-000001")
    assert stored["serial_start"] == 100001
    assert stored["status"] == "held"
    assert [b["block_id"] for b in jiangsu.get("/v1/blocks")] == ["JS-B-2025-000001"]
    with pytest.raises(NotFound):
        as_client("sh").get("/v1/blocks/JS-B-2025-000001")
    events = [e["type"] for e in jiangsu.get("/v1/events")["events"]]
    assert events[-1] == "batch.ingested"


@pytest.mark.parametrize(
    ("records", "pointer", "code"),
    [
        ({"blocks": [_block(quantity=349)]}, "/blocks/0/quantity", "3002"),
        ({"blocks": [_block(quantity=350.5)]}, "/blocks/0/quantity", "1002"),
        ({"blocks": [_block(serial_namespace="SH")]}, "/blocks/0/serial_namespace", "2004"),
        ({"blocks": [_block(status="retired")]}, "/blocks/0/status", "3013"),
        ({"blocks": [_block(), _block()]}, "/blocks/1/block_id", "3007"),
        (
            {
                "blocks": [
                    _block(),
                    _block(block_id="JS-B-2", serial_start=100300, serial_end=100400, quantity=101),
                ]
            },
            "/blocks/1/serial_start",
            "3008",
        ),
    ],
    ids=["quantity-mismatch", "fractional", "other-namespace", "retired", "duplicate-id", "overlap-in-batch"],
)
def test_bad_batches_are_refused_whole(as_client, records, pointer, code) -> None:
    jiangsu = as_client("js")
    records = {
        "blocks": [
            *records["blocks"],
            _block(block_id="JS-B-OK", serial_start=900001, serial_end=900010, quantity=10),
        ]
    }
    with pytest.raises(Refused) as refused:
        _send(jiangsu, records)
    assert refused.value.status == 422
    assert (pointer, code) in [(e["pointer"], e["code"]) for e in refused.value.errors]
    assert jiangsu.get("/v1/blocks") == []


def test_serials_of_a_registered_block_are_refused(as_client) -> None:
    jiangsu = as_client("js")
    _send(jiangsu, {"blocks": [_block()]})
    overlapping = _block(block_id="JS-B-2", serial_start=100350, serial_end=100360, quantity=11)
    with pytest.raises(Refused) as refused:
        _send(jiangsu, {"blocks": [overlapping]})
    assert [(e["pointer"], e["code"]) for e in refused.value.errors] == [("/blocks/0/serial_start", "3011")]
    assert "JS-B-2025-000001" in refused.value.errors[0]["detail"]
    with pytest.raises(Refused) as again:
        _send(jiangsu, {"blocks": [_block()]})
    assert {e["code"] for e in again.value.errors} == {"3011", "3012"}
    adjacent = _block(block_id="JS-B-3", serial_start=100351, serial_end=100360, quantity=10)
    assert _send(jiangsu, {"blocks": [adjacent]}).json()["blocks"] == 1


def test_only_the_platform_itself_sends_its_batches(as_client) -> None:
    from hub.client import PermissionDenied

    body = json.dumps({"blocks": [_block()]}).encode()
    with pytest.raises(PermissionDenied):
        as_client("sh").request("POST", "/v1/platforms/JS/batches", content=body, content_type=FORM)


def test_concurrent_writers_of_overlapping_serials_exactly_one_wins(database, federation) -> None:
    outcomes: list[str] = []
    barrier = threading.Barrier(6)

    def write(position: int) -> None:
        block = _block(
            block_id=f"JS-B-R{position}",
            serial_start=1000 + position,
            serial_end=1100 + position,
            quantity=101,
        )
        barrier.wait()
        try:
            with database.unit_of_work() as session:
                IngestService(session).ingest("JS", Records(blocks=[block]), actor="js", source="test")
            outcomes.append("stored")
        except BatchRefused as refused:
            outcomes.append(refused.code or "")

    threads = [threading.Thread(target=write, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["3011"] * 5 + ["stored"]


def test_a_crash_before_commit_stores_nothing(database, federation) -> None:
    with pytest.raises(RuntimeError), database.unit_of_work() as session:
        IngestService(session).ingest(
            "JS", Records(blocks=[copy.deepcopy(_block())]), actor="js", source="test"
        )
        raise RuntimeError("the process dies before the commit")
    with database.unit_of_work() as session:
        IngestService(session).ingest("JS", Records(blocks=[_block()]), actor="js", source="test")
