"""The demo's seeded history (hub/demo/story.py), played as `make run` plays it, on both backends:
it leaves exactly the history it promises (counted through the API), the log audits from outside,
no serial is lost or counted twice, no personal identifier reaches the hub in clear, and the
README tour still works afterwards."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import httpx
import pytest
from sqlmodel import col, select

from hub.app import create_app
from hub.cli.audit import run_audit
from hub.client import Refused
from hub.database import Database
from hub.demo.actors import Actors, in_process
from hub.demo.story import COMMUTER_PHONE, TRIPS, play_in_process
from hub.registry.dedup import PersonalActivity
from hub.registry.models import CreditBlock
from hub.seed import seed_demo
from hub.settings import Settings


def _serials(database: Database) -> dict[str, Any]:
    """Per namespace: the tonnes its origin holds in blocks (every status), the ranges held
    elsewhere (imported) and the ranges the origin exported; and whether any two blocks of the
    origin share a serial."""
    with database.unit_of_work() as session:
        blocks = session.exec(select(CreditBlock)).all()
    origin_tonnes: dict[str, int] = defaultdict(int)
    imported: dict[str, list[tuple[int, int]]] = defaultdict(list)
    exported: dict[str, list[tuple[int, int]]] = defaultdict(list)
    at_origin: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for block in blocks:
        namespace = block.serial_namespace
        if block.current_registry == block.origin_registry:
            origin_tonnes[namespace] += block.quantity
            at_origin[namespace].append((block.serial_start, block.serial_end))
            if block.status == "exported":
                exported[namespace].append((block.serial_start, block.serial_end))
        else:
            imported[namespace].append((block.serial_start, block.serial_end))
    overlapping = [
        namespace
        for namespace, ranges in at_origin.items()
        if any(a[1] >= b[0] for a, b in zip(sorted(ranges), sorted(ranges)[1:], strict=False))
    ]
    return {
        "tonnes": dict(origin_tonnes),
        "imported": {n: sorted(r) for n, r in imported.items()},
        "exported": {n: sorted(r) for n, r in exported.items()},
        "overlapping": overlapping,
    }


def test_the_seeded_story_leaves_the_promised_history(database: Database, settings: Settings) -> None:
    demo = settings.model_copy(update={"demo": True})
    seeded = seed_demo(database, demo)
    before = _serials(database)
    app = create_app(demo, database)
    report = play_in_process(app, demo, seeded.credentials_dir)
    assert report.transfers == {
        "TR-DEMO-0001": "completed",
        "TR-DEMO-0002": "completed",
        "TR-DEMO-0003": "completed",
        "TR-DEMO-0005": "completed",
        "TR-DEMO-0004": "terminated",
        "TR-DEMO-0006": "completed",
    }
    with in_process(app) as transport, Actors(seeded.credentials_dir, transport=transport) as actors:
        shanghai, jiangsu = actors.operator("SH"), actors.operator("JS")
        queue = {
            r["request_id"]: r["status"] for r in shanghai.get("/v1/recognitions") if r["destination"] == "SH"
        }
        assert queue == {
            "RR-2026-0001": "pending_review",  # the README tour's, left for the reader
            "RR-2026-0003": "pending_review",
            "RR-DEMO-0101": "used",  # approved, then used by its transfer
            "RR-DEMO-0102": "used",
        }
        decided_in_js = {
            r["request_id"]: r["status"] for r in jiangsu.get("/v1/recognitions") if r["destination"] == "JS"
        }
        assert decided_in_js == {"RR-DEMO-0103": "used", "RR-DEMO-0104": "rejected"}  # nothing left pending

        terminated = actors.platform("JS").get("/v1/transfers/TR-DEMO-0004")
        assert terminated["itl_status"] == 5 and "1045" in terminated["last_error"]
        ev = actors.platform("JS").get("/v1/blocks", namespace="JS", serial=100351)
        assert [b["status"] for b in ev] == ["held"]  # compensated: held again at the origin

        flows = {(f["origin"], f["destination"]): f for f in shanghai.get("/v1/reports/flows")["flows"]}
        assert (flows[("CCER", "SH")]["transferred_tonnes"], flows[("CCER", "SH")]["retired_tonnes"]) == (
            100,
            100,
        )
        assert (flows[("AH", "SH")]["transferred_tonnes"], flows[("AH", "SH")]["retired_tonnes"]) == (60, 60)
        assert flows[("SH", "SH")]["retired_tonnes"] == 20  # Shanghai's own credits, its own ETS
        assert flows[("CCER", "JS")]["transferred_tonnes"] == 50
        assert flows[("SH", "AH")]["transferred_tonnes"] == 10
        assert flows[("JS", "AH")]["transferred_tonnes"] == 20
        assert ("JS", "CCER") not in flows or flows[("JS", "CCER")]["transferred_tonnes"] == 0

        (pledged,) = report.pledged_and_released
        assert actors.platform("AH").get(f"/v1/blocks/{pledged}")["status"] == "held"
        kinds = [e["type"] for e in actors.platform("AH").get("/v1/events", limit=1000)["events"]]
        assert kinds.count("block.pledged") == kinds.count("block.released") == 1

        # counted once: the commuter's morning trip is registered once (by SH), and a platform
        # reporting it again is told so
        assert report.personal_duplicates == ["/batches/0/records/0"]
        with database.unit_of_work() as session:
            trips = session.exec(
                select(PersonalActivity).where(col(PersonalActivity.batch_id).startswith("SH-PB-DEMO"))
            ).all()
            commuter = trips[0].subject
            everything = session.exec(
                select(PersonalActivity).where(PersonalActivity.subject == commuter)
            ).all()
        assert len(trips) == len(TRIPS)
        assert sorted((a.platform, a.scenario) for a in everything) == [
            ("SH", "TRANSIT-METRO"),
            ("SH", "TRANSIT-METRO"),
            ("ZJ", "TRANSIT-BUS"),
        ]
        with httpx.Client(base_url="http://127.0.0.1:8000", transport=transport) as public:
            audit, head = run_audit(public)
            log = public.get("/v1/log/entries", params={"start": 0, "end": head["tree_size"]}).text
        assert audit.ok, audit.findings
        digits = "".join(ch for ch in COMMUTER_PHONE if ch.isdigit())[2:]  # 13800138009
        assert digits not in log and digits not in log.replace("-", "")

        # the README tour: RR-2026-0001 approved now, its certificate fetched by Jiangsu
        tour = next(r for r in shanghai.get("/v1/recognitions") if r["request_id"] == "RR-2026-0001")
        approved = shanghai.post(
            f"/v1/recognitions/{tour['id']}/decision",
            {"decision": "approve", "reason": "meets the YRD rules"},
        )
        assert approved["status"] == "approved"
        assert actors.platform("JS").get(f"/v1/recognitions/{tour['id']}/certificate")["certificate"]
        with pytest.raises(Refused) as again:  # the story's transfers took none of its serials
            actors.platform("JS").post("/v1/retirements", _retire_tour_serials())
        assert "3029" in [e["code"] for e in again.value.errors]

    after = _serials(database)
    assert after["tonnes"] == before["tonnes"], (
        "the origin's blocks tile what it issued, nothing more or less"
    )
    assert after["overlapping"] == [] == before["overlapping"]
    assert after["imported"] == after["exported"], (
        "every exported serial is held once elsewhere, and only those"
    )
    assert sum(e - s + 1 for r in after["exported"].values() for s, e in r) == 100 + 60 + 50 + 10 + 20


def _retire_tour_serials() -> dict[str, Any]:
    return {
        "retirement_id": "RT-TOUR",
        "registry": "JS",
        "blocks": [{"block_id": "JS-B-2025-000001", "namespace": "JS", "start": 100001,
                    "end": 100120, "quantity": 120, "unit": "tCO2e"}],
        "quantity": 120,
        "unit": "tCO2e",
        "purpose": {"kind": "voluntary-neutralization", "event": "demonstration"},
        "beneficiary": {"registry": "JS", "account_id": "JS-A-1"},
    }  # fmt: skip
