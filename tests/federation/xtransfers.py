"""Helpers of the cross-hub transfer tests (``test_crosshub_transfer*.py``): a Jiangsu proposal to
a Guangdong account (YRD hub to GD hub), where its serials are across both hubs' databases
(``where``: held, locked, arriving or moved, never two places), the workers' rounds with that
checked after each, and what each hub and platform recorded."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlmodel import col, select

from hub.crosshub.models import PeerMessage
from hub.registry.models import CreditBlock
from hub.xtransfer.models import FederatedTransfer
from tests.federation.two_hubs import Hub, TwoHubs

START, END = 100001, 100120
Sides = tuple[tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]]  # (YRD's, GD's) blocks


def propose(
    hubs: TwoHubs,
    transfer_id: str = "XT-1",
    *,
    destination: str = "GD",
    account: str = "GD-A-ORG-0007",
    start: int = START,
    end: int = END,
    key: str | None = None,
    block_id: str = "JS-B-2025-000001",
    **extra: Any,
) -> dict[str, Any]:
    body = {
        "transfer_id": transfer_id,
        "destination": destination,
        "to_account": {"registry": destination, "account_id": account},
        "blocks": [{"block_id": block_id, "namespace": "JS", "start": start, "end": end}],
        **extra,
    }
    answer: dict[str, Any] = (
        hubs.yrd.as_client("js")
        .request("POST", "/v1/transfers", json_body=body, headers={"Idempotency-Key": key or transfer_id})
        .json()
    )
    return answer


def blocks_of(hub: Hub, start: int = START, end: int = END) -> list[tuple[str, str, str]]:
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
    """Where serials [start, end] are, across both hubs' databases: ``held`` at JS; ``locked`` at
    JS (in flight); ``arriving`` (credited at GD, still locked at JS: the YRD hub not told yet,
    nothing can move them); or ``moved`` (exported at JS, imported at GD). Any other combination
    — held at JS and at GD, credited twice, held at JS while credited at GD — fails the test."""
    yrd = [(registry, status) for registry, status, _ in blocks_of(hubs.yrd, start, end)]
    gd = [(registry, status) for registry, status, _ in blocks_of(hubs.gd, start, end)]
    states: dict[Sides, str] = {
        ((("JS", "held"),), ()): "held",
        ((("JS", "locked"),), ()): "locked",
        ((("JS", "locked"),), (("GD", "imported"),)): "arriving",
        ((("JS", "exported"),), (("GD", "imported"),)): "moved",
    }
    found = states.get((tuple(yrd), tuple(gd)))
    assert found is not None, (yrd, gd)
    return found


def sandbox(hub: Hub, code: str) -> dict[str, Any]:
    state: dict[str, Any] = hub.client.get(f"/sandbox/{code.lower()}/_sandbox/state").json()
    return state


def piece(hubs: TwoHubs) -> str:
    return f"JS-B-2025-000001:{START}-{END}"


def halves(hub: Hub) -> list[FederatedTransfer]:
    with hub.database.unit_of_work() as session:
        return list(session.exec(select(FederatedTransfer)).all())


def messages(hub: Hub, kind: str) -> list[PeerMessage]:
    with hub.database.unit_of_work() as session:
        return list(session.exec(select(PeerMessage).where(PeerMessage.kind == kind)).all())


def logged_types(hub: Hub, transfer_id: str = "XT-1") -> list[str]:
    from sqlmodel import select as sel

    from hub.log.models import LogEntry

    with hub.database.unit_of_work() as session:
        rows = session.exec(
            sel(LogEntry).where(LogEntry.subject_id == transfer_id).order_by(col(LogEntry.index))
        )
        return [row.type for row in rows]


def rounds(hubs: TwoHubs, count: int, start: datetime, step: timedelta = timedelta(seconds=30)) -> datetime:
    """Every worker of both hubs ``count`` times, ``step`` apart, conservation checked after each."""
    moment = start
    for _ in range(count):
        for work in [*hubs.workers, *hubs.transfer_workers]:
            work(moment)
            where(hubs)
        moment += step
    return moment


def transfer(hubs: TwoHubs, transfer_id: str = "XT-1") -> dict[str, Any]:
    found: dict[str, Any] = hubs.yrd.as_client("js").get(f"/v1/transfers/{transfer_id}")
    return found


def held_block(hubs: TwoHubs, start: int, end: int) -> str:
    """The YRD hub's block holding JS serials [start, end] now (splits rename it)."""
    (block,) = [b for registry, status, b in blocks_of(hubs.yrd, start, end) if status == "held"]
    return block
