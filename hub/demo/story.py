"""The demo's seeded history: played once when ``make run`` seeds an empty database, each demo
platform and operator acting through the hub's public API with its own credentials, so that the
dashboard and the log open on a federation that has already lived a little.

What it leaves (every id starts with ``DEMO``; all demonstration data):

- CCER → SH for ETS compliance: 100 t of the Longquan afforestation CCER units recognized by
  ``operator-sh`` for a Shanghai covered entity's 2025 compliance, moved to Shanghai under the
  certificate (transfer completed), then retired there for that compliance;
- AH → SH for an event: 60 t of Anhui afforestation credits recognized by ``operator-sh`` for the
  voluntary neutralization of a Shanghai forum, moved under the certificate, retired for the event;
- CCER → JS: 50 t recognized by ``operator-js`` for a Suzhou exhibition's neutralization and moved
  (completed); an AH → JS request rejected by ``operator-js`` with its reason;
- plain transfers without recognition: SH → AH (10 t of EV charging), JS → AH (20 t);
- SH retires 20 t of its own PV for the same covered entity's ETS compliance (no recognition
  needed inside the region);
- JS → CCER: 10 t of Suzhou EV-charging credits the national registry cannot take (its format
  holds only units it issued): the transfer is terminated and compensated, the credits held again;
- AH pledges the rest of its afforestation block to a bank and releases it when the loan is repaid;
- personal activity counted once: one (fabricated) commuter's Line 11 trips Anting → Huaqiao on
  2025-11-03 reported by Shanghai, then by Zhejiang in its daily records: Zhejiang's dry run finds
  the metro trip already counted (4002), and Zhejiang sends its day without it. Identifiers are
  pseudonymized on each platform's side with the federation key; the hub sees pseudonyms only.

The README tour's recognitions (RR-2026-0001 Kunshan PV → SH ETS, RR-2026-0003 Anhui forest → SH
event) stay pending for the reader, no serial they name is touched, and the Kunshan PV block
(JS-B-2025-000001) is left whole, so the tour names it as it is.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from hub.client import PlatformClient, Refused
from hub.demo.actors import (
    FINAL_TRANSFER_STATES,
    Actors,
    exchange_records,
    in_process,
    send_records,
    worker_rounds,
)
from hub.demo.trips import Trip, shanghai_day, zhejiang_lines
from hub.settings import Settings

COVERED_ENTITY = hashlib.sha256(b"demonstration: a Shanghai covered entity, SH-A-ENT-0077").hexdigest()
COMPLIANCE_YEAR = 2025
VERIFIED_EMISSIONS = 20000
TRIP_DAY = "2025-11-03"
COMMUTER_PHONE = "+86 138 0013 8009"  # fabricated (a placeholder number), pseudonymized before sending


@dataclass
class StoryReport:
    """What the story did, by kind (ids), for the seeding's printout and the tests."""

    approved: list[str] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    transfers: dict[str, str] = field(default_factory=dict)  # id -> final state
    retirements: list[str] = field(default_factory=list)
    pledged_and_released: list[str] = field(default_factory=list)
    personal_duplicates: list[str] = field(default_factory=list)  # pointers found by the dry run

    def lines(self) -> list[str]:
        states = ", ".join(f"{tid} {state}" for tid, state in self.transfers.items())
        return [
            f"recognitions approved {len(self.approved)}, rejected {len(self.rejected)}",
            f"transfers: {states}",
            f"retirements: {', '.join(self.retirements)}",
            f"pledged and released: {', '.join(self.pledged_and_released)}",
            f"personal activity counted once: {len(self.personal_duplicates)} duplicate trip left out",
        ]


def _part(block_id: str, namespace: str, start: int, end: int) -> dict[str, Any]:
    return {
        "block_id": block_id,
        "namespace": namespace,
        "start": start,
        "end": end,
        "quantity": end - start + 1,
        "unit": "tCO2e",
    }


def _holding(client: PlatformClient, namespace: str, serial: int) -> str:
    """The id of the block the caller holds that holds ``serial`` now (splits rename pieces)."""
    found = client.get("/v1/blocks", namespace=namespace, serial=serial)
    if not found:
        raise LookupError(f"no visible block holds {namespace} serial {serial}")
    return str(found[0]["block_id"])


class Story:
    """The seeded history, played through ``actors``; ``advance()`` runs one transfer-worker round."""

    def __init__(self, actors: Actors, federation_key: Path, advance: Callable[[], int]) -> None:
        self.actors = actors
        self.federation_key = federation_key
        self.advance = advance
        self.report = StoryReport()

    # steps
    def _recognize(
        self,
        origin: str,
        destination: str,
        request_id: str,
        purpose: str,
        parts: list[dict[str, Any]],
        beneficiary: str,
        *,
        decision: str = "approve",
        reason: str,
        note: str,
    ) -> dict[str, Any]:
        request: dict[str, Any] = {
            "request_id": request_id,
            "origin_registry": origin,
            "destination_registry": destination,
            "purpose": purpose,
            "blocks": parts,
            "quantity": sum(p["quantity"] for p in parts),
            "unit": "tCO2e",
            "beneficiary": {"registry": destination, "account_id": beneficiary},
            "requested_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "note": f"demonstration: {note}",
        }
        body: dict[str, Any] = {"request": request}
        if purpose == "ets-compliance":
            request["compliance"] = {"covered_entity_hash": COVERED_ENTITY, "year": COMPLIANCE_YEAR}
            body["verified_emissions"] = VERIFIED_EMISSIONS
        asked = self.actors.platform(origin).post("/v1/recognitions", body)
        decided: dict[str, Any] = self.actors.operator(destination).post(
            f"/v1/recognitions/{asked['id']}/decision", {"decision": decision, "reason": reason}
        )
        (self.report.approved if decision == "approve" else self.report.rejected).append(request_id)
        return decided

    def _transfer(
        self, origin: str, destination: str, transfer_id: str, parts: list[dict[str, Any]], account: str,
        certificate: str | None = None,
    ) -> None:  # fmt: skip
        body: dict[str, Any] = {
            "transfer_id": transfer_id,
            "destination": destination,
            "to_account": {"registry": destination, "account_id": account},
            "blocks": [{k: p[k] for k in ("block_id", "namespace", "start", "end")} for p in parts],
        }
        if certificate is not None:
            body["certificate_id"] = certificate
        self.actors.platform(origin).request(
            "POST", "/v1/transfers", json_body=body, headers={"Idempotency-Key": f"demo-story-{transfer_id}"}
        )
        self.report.transfers[transfer_id] = "accepted"

    def _settle(self, origin_of: dict[str, str], rounds: int = 12) -> None:
        """Run worker rounds until every transfer of the story is final (each read as its origin)."""
        for _ in range(rounds):
            pending = [t for t, state in self.report.transfers.items() if state not in FINAL_TRANSFER_STATES]
            if not pending:
                return
            self.advance()
            for transfer_id in pending:
                read = self.actors.platform(origin_of[transfer_id]).get(f"/v1/transfers/{transfer_id}")
                self.report.transfers[transfer_id] = read["state"]
        unsettled = {t: s for t, s in self.report.transfers.items() if s not in FINAL_TRANSFER_STATES}
        if unsettled:
            raise RuntimeError(f"the demo's transfers did not settle: {unsettled}")

    def _retire(self, registry: str, retirement_id: str, parts: list[dict[str, Any]], purpose: dict[str, Any],
                account: str, certificate: str | None = None) -> None:  # fmt: skip
        body: dict[str, Any] = {
            "retirement_id": retirement_id,
            "registry": registry,
            "blocks": parts,
            "quantity": sum(p["quantity"] for p in parts),
            "unit": "tCO2e",
            "purpose": purpose,
            "beneficiary": {"registry": registry, "account_id": account},
        }
        if certificate is not None:
            body["certificate_id"] = certificate
        self.actors.platform(registry).post("/v1/retirements", body)
        self.report.retirements.append(retirement_id)

    def _ets(self) -> dict[str, Any]:
        return {
            "kind": "ets-compliance",
            "covered_entity_hash": COVERED_ENTITY,
            "compliance_year": COMPLIANCE_YEAR,
        }

    # the chapters
    def recognitions_and_transfers(self) -> None:
        longquan_ets = [_part("CCER-R-2025-000001", "CCER", 101, 200)]
        ets = self._recognize(
            "CCER", "SH", "RR-DEMO-0101", "ets-compliance", longquan_ets, "SH-A-ENT-0077",
            reason="Meets the YRD rules; within the 5 % offset limit (demonstration)",
            note="Longquan afforestation CCER units for a Shanghai covered entity's 2025 ETS compliance",
        )  # fmt: skip
        forest = [_part("AH-B-2024-000018", "AH", 5101, 5160)]
        event = self._recognize(
            "AH", "SH", "RR-DEMO-0102", "voluntary-neutralization", forest, "SH-A-EVENT-0012",
            reason="Afforestation with co-benefits; accepted for the forum's neutralization (demonstration)",
            note="Qimen afforestation credits for a Shanghai forum's neutralization",
        )  # fmt: skip
        longquan = [_part("CCER-R-2025-000001", "CCER", 1, 50)]
        jiangsu = self._recognize(
            "CCER", "JS", "RR-DEMO-0103", "voluntary-neutralization", longquan, "JS-A-EVENT-0003",
            reason="CCER afforestation inside its crediting period; accepted at 1:1 (demonstration)",
            note="Longquan afforestation CCER units for a Suzhou exhibition's neutralization",
        )  # fmt: skip
        self._recognize(
            "AH", "JS", "RR-DEMO-0104", "charitable-retirement",
            [_part("AH-B-2024-000018", "AH", 5201, 5210)], "JS-A-CHARITY-09", decision="reject",
            reason="The beneficiary's charity account is not open in Jiangsu yet (demonstration)",
            note="Qimen afforestation credits for a Jiangsu charity",
        )  # fmt: skip
        self._transfer("CCER", "SH", "TR-DEMO-0001", longquan_ets, "SH-A-ENT-0077", ets["certificate_id"])
        self._transfer("AH", "SH", "TR-DEMO-0002", forest, "SH-A-EVENT-0012", event["certificate_id"])
        self._transfer("CCER", "JS", "TR-DEMO-0003", longquan, "JS-A-EVENT-0003", jiangsu["certificate_id"])
        self._transfer(
            "SH", "AH", "TR-DEMO-0005", [_part("SH-B-2025-000102", "SH", 200121, 200130)], "AH-A-EV-0005"
        )
        ev = [_part("JS-B-2025-000002", "JS", 100351, 100360)]
        self._transfer("JS", "CCER", "TR-DEMO-0004", ev, "CCER-ACC-3206-0007")  # CCER takes only its own
        suzhou = [_part("JS-B-2025-000002", "JS", 100371, 100390)]
        self._transfer("JS", "AH", "TR-DEMO-0006", suzhou, "AH-A-EV-0006")
        origins = {"TR-DEMO-0001": "CCER", "TR-DEMO-0002": "AH", "TR-DEMO-0003": "CCER", "TR-DEMO-0004": "JS",
                   "TR-DEMO-0005": "SH", "TR-DEMO-0006": "JS"}  # fmt: skip
        self._settle(origins)

    def retirements(self) -> None:
        shanghai = self.actors.platform("SH")
        longquan = _holding(shanghai, "CCER", 101)
        self._retire("SH", "RT-DEMO-0001", [_part(longquan, "CCER", 101, 200)], self._ets(), "SH-A-ENT-0077")
        forest = _holding(shanghai, "AH", 5101)
        event = {
            "kind": "voluntary-neutralization",
            "event": "demonstration: a 2026 YRD carbon-inclusion forum",
        }
        self._retire("SH", "RT-DEMO-0002", [_part(forest, "AH", 5101, 5160)], event, "SH-A-EVENT-0012")
        own = _holding(shanghai, "SH", 200101)
        self._retire("SH", "RT-DEMO-0003", [_part(own, "SH", 200101, 200120)], self._ets(), "SH-A-ENT-0077")

    def pledge_and_release(self) -> None:
        anhui = self.actors.platform("AH")
        block = _holding(anhui, "AH", 5161)
        anhui.post(
            f"/v1/blocks/{block}/pledge", {"reason": "demonstration: collateral for loan AH-BANK-2026-031"}
        )
        anhui.post(f"/v1/blocks/{block}/release", {"reason": "demonstration: loan AH-BANK-2026-031 repaid"})
        self.report.pledged_and_released.append(block)

    def personal_activity(self) -> None:
        """Shanghai reports the commuter's Line 11 trips; Zhejiang's dry run finds the metro trip
        counted already, and Zhejiang sends its day without it."""
        send_records(self.actors, "SH", exchange_records("SH", *_shanghai_trips(), self.federation_key))
        records = exchange_records("ZJ", *_zhejiang_day(), self.federation_key)
        zhejiang = self.actors.platform("ZJ")
        check = zhejiang.request(
            "POST", "/v1/dedup/check", content=json.dumps(records).encode(), content_type="application/json"
        ).json()
        duplicates = [issue for issue in check["issues"] if issue["code"] == "4002"]
        if not duplicates:
            raise RuntimeError(f"the demo's duplicate trip was not found: {check}")
        left_out = {tuple(i["pointer"].split("/")[2:5:2]) for i in duplicates}  # (batch, record)
        kept = []
        for b, batch in enumerate(records["batches"]):
            items = [r for n, r in enumerate(batch["records"]) if (str(b), str(n)) not in left_out]
            if items:
                kept.append({**batch, "records": items, "quantity": sum(r["quantity"] for r in items)})
        send_records(self.actors, "ZJ", {"projects": [], "blocks": [], "batches": kept})
        self.report.personal_duplicates = [i["pointer"] for i in duplicates]

    def play(self) -> StoryReport:
        self.recognitions_and_transfers()
        self.retirements()
        self.pledge_and_release()
        self.personal_activity()
        return self.report


TRIPS = [
    Trip("SH-R-DEMO-000101", COMMUTER_PHONE, TRIP_DAY, "08:01:05", "08:18:40", "L11-20251103-0801-ANT-HQ"),
    Trip("SH-R-DEMO-000102", COMMUTER_PHONE, TRIP_DAY, "18:12:30", "18:29:55", "L11-20251103-1812-HQ-ANT"),
]


def _shanghai_trips() -> tuple[bytes, str]:
    """The Shanghai app's day for the commuter: Anting → Huaqiao in the morning, back at night."""
    return shanghai_day("SH-PB-DEMO-20251103", TRIPS)


def _zhejiang_day() -> tuple[bytes, str]:
    """Zhejiang's daily records for the same commuter (the same phone, written its own way): the
    morning metro trip Shanghai reported already, and a bus ride in Quzhou Shanghai knows nothing of."""
    return zhejiang_lines([replace(TRIPS[0], record_id="ZJ-R-20251103-DEMO-01")], bus_points=300)


def play_story(actors: Actors, federation_key: Path, advance: Callable[[], int]) -> StoryReport:
    """Play the seeded history once (the database must hold the freshly seeded demo federation)."""
    try:
        return Story(actors, federation_key, advance).play()
    except Refused as refused:  # say which step's request was refused, with the hub's reasons
        raise RuntimeError(f"the demo's story was refused: {refused} {refused.errors}") from refused


def play_in_process(app: FastAPI, settings: Settings, credentials_dir: Path) -> StoryReport:
    """Play the story against ``app`` in this process, before it is served: its mounted sandboxes
    answer the transfer worker, so the platforms' books and the hub's agree when it is served."""
    with in_process(app) as transport, Actors(credentials_dir, transport=transport) as actors:
        advance = worker_rounds(app.state.database, settings, transport)
        return play_story(actors, settings.resolved_federation_key_file, advance)
