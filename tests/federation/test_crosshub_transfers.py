"""Transfers across peered hubs: Jiangsu (YRD hub) sends Kunshan PV serials to a Guangdong account
(GD hub). The YRD hub locks them at JS, the GD hub credits them at GD after the YRD hub commits;
each logs its half; a refusal, a cut network, lost answers, a foreign or forged hub and a passed
deadline never leave the serials in two places (docs/federation-transfers.md)."""

from __future__ import annotations

from typing import Any

from sqlmodel import col, select

from hub.crosshub.models import PeerMessage
from hub.registry.models import CreditBlock
from hub.xtransfer.models import FederatedTransfer
from tests.federation.two_hubs import Hub, TwoHubs

START, END = 100001, 100120


def _propose(
    hubs: TwoHubs,
    transfer_id: str = "XT-1",
    *,
    destination: str = "GD",
    account: str = "GD-A-ORG-0007",
    start: int = START,
    end: int = END,
    key: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    body = {
        "transfer_id": transfer_id,
        "destination": destination,
        "to_account": {"registry": destination, "account_id": account},
        "blocks": [{"block_id": "JS-B-2025-000001", "namespace": "JS", "start": start, "end": end}],
        **extra,
    }
    answer: dict[str, Any] = (
        hubs.yrd.as_client("js")
        .request("POST", "/v1/transfers", json_body=body, headers={"Idempotency-Key": key or transfer_id})
        .json()
    )
    return answer


def _blocks(hub: Hub, start: int = START, end: int = END) -> list[tuple[str, str, str]]:
    """(registry, status, block id) of every block of ``hub`` overlapping JS serials [start, end]."""
    with hub.database.unit_of_work() as session:
        rows = session.exec(
            select(CreditBlock)
            .where(
                CreditBlock.serial_namespace == "JS",
                col(CreditBlock.serial_start) <= end,
                col(CreditBlock.serial_end) >= start,
            )
            .order_by(col(CreditBlock.serial_start))
        ).all()
        return [(b.current_registry, b.status, b.block_id) for b in rows]


def where(hubs: TwoHubs, start: int = START, end: int = END) -> str:
    """Where serials [start, end] are, across both hubs' databases: ``held`` at JS, ``locked`` at
    JS (in flight), or ``moved`` (exported at JS, imported at GD); any other combination — held
    on both sides, credited at GD while JS still holds or locks them — fails the test."""
    yrd = {(registry, status) for registry, status, _ in _blocks(hubs.yrd, start, end)}
    gd = {(registry, status) for registry, status, _ in _blocks(hubs.gd, start, end)}
    if gd == set():
        assert yrd in ({("JS", "held")}, {("JS", "locked")}), yrd
        return "held" if yrd == {("JS", "held")} else "locked"
    assert (yrd, gd) == ({("JS", "exported")}, {("GD", "imported")}), (yrd, gd)
    return "moved"


def _sandbox(hub: Hub, code: str) -> dict[str, Any]:
    state: dict[str, Any] = hub.client.get(f"/sandbox/{code.lower()}/_sandbox/state").json()
    return state


def _piece(hubs: TwoHubs) -> str:
    return f"JS-B-2025-000001:{START}-{END}"


def _halves(hub: Hub) -> list[FederatedTransfer]:
    with hub.database.unit_of_work() as session:
        return list(session.exec(select(FederatedTransfer)).all())


def _messages(hub: Hub, kind: str) -> list[PeerMessage]:
    with hub.database.unit_of_work() as session:
        return list(session.exec(select(PeerMessage).where(PeerMessage.kind == kind)).all())


def _types(hub: Hub, transfer_id: str = "XT-1") -> list[str]:
    from sqlmodel import select as sel

    from hub.log.models import LogEntry

    with hub.database.unit_of_work() as session:
        rows = session.exec(
            sel(LogEntry).where(LogEntry.subject_id == transfer_id).order_by(col(LogEntry.index))
        )
        return [row.type for row in rows]


def test_a_transfer_from_jiangsu_to_a_guangdong_account_completes_on_both_hubs(peered: TwoHubs) -> None:
    proposed = _propose(peered)
    assert (proposed["state"], proposed["destination_registry"]) == ("accepted", "GD")
    assert where(peered) == "held"
    peered.settle()
    assert where(peered) == "moved"
    at_yrd = peered.yrd.as_client("js").get("/v1/transfers/XT-1")
    assert at_yrd["state"] == "completed"
    assert [h["state"] for h in at_yrd["history"]] == [
        "proposed", "checked", "accepted", "origin_locked", "destination_credited", "completed",
    ]  # fmt: skip
    credited = f"GD:JS-B-2025-000001:{START}-{END}"
    assert at_yrd["credited_blocks"] == [credited]
    at_gd = peered.gd.as_client("gd").get("/v1/transfers/XT-1")
    assert (at_gd["state"], at_gd["credited_blocks"], at_gd["quantity"]) == ("completed", [credited], 120)
    # each platform was driven by its own hub: locked at JS, credited once at GD
    assert _sandbox(peered.yrd, "JS")["blocks"][_piece(peered)] == "exported"  # JS was told
    assert _sandbox(peered.gd, "GD")["imports"] == [_piece(peered)]
    # each hub logged its half
    assert _types(peered.yrd) == [
        "transfer.accepted", "transfer.origin_locked", "transfer.offered", "transfer.committed",
        "transfer.credited_at_destination", "transfer.destination_credited", "transfer.completed",
    ]  # fmt: skip
    assert _types(peered.gd) == ["transfer.offered", "transfer.committed", "transfer.imported"]
    (imported,) = peered.gd.logged("transfer.imported")
    assert imported["data"]["hub"] == peered.yrd.origin
    assert imported["data"]["blocks"] == [credited]
    # the block at GD is held by the Guangdong account, its provenance kept
    gd_block = peered.gd.as_client("gd").get(f"/v1/blocks/{credited}")
    assert (gd_block["status"], gd_block["holder"]["account_id"]) == ("imported", "GD-A-ORG-0007")
    (half,) = _halves(peered.gd)
    assert (half.peer_origin, half.transfer_id, half.phase) == (peered.yrd.origin, "XT-1", "completed")
