"""Reconciliation as the ITL runs it: totals, then unit blocks, then the audit trail. Every
discrepancy is reported; nothing is fixed here (an operator resolves, with a note).

Statuses: initiated, validated, totals_inconsistent, unit_blocks_inconsistent, completed,
completed_after_manual_intervention (the ITL's, FACTS.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Status(StrEnum):
    INITIATED = "initiated"
    VALIDATED = "validated"
    TOTALS_INCONSISTENT = "totals_inconsistent"
    UNIT_BLOCKS_INCONSISTENT = "unit_blocks_inconsistent"
    AUDIT_TRAIL_INCONSISTENT = "audit_trail_inconsistent"
    COMPLETED = "completed"
    COMPLETED_AFTER_MANUAL_INTERVENTION = "completed_after_manual_intervention"


@dataclass(frozen=True, slots=True)
class BlockView:
    """What one side says of a block."""

    block_id: str
    serial_start: int
    serial_end: int
    quantity: int
    status: str

    @classmethod
    def from_dict(cls, value: Mapping[str, Any]) -> BlockView:
        return cls(
            str(value["block_id"]),
            int(value["serial_start"]),
            int(value["serial_end"]),
            int(value["quantity"]),
            str(value["status"]),
        )


@dataclass(frozen=True, slots=True)
class Discrepancy:
    stage: str  # totals | unit_blocks | audit_trail
    code: str
    subject: str
    detail: str

    def as_dict(self) -> dict[str, str]:
        return {"stage": self.stage, "code": self.code, "subject": self.subject, "detail": self.detail}


@dataclass
class Outcome:
    status: Status
    discrepancies: list[Discrepancy] = field(default_factory=list)


def compare_totals(hub: tuple[int, int], platform: tuple[int, int]) -> list[Discrepancy]:
    """(blocks, tonnes) on each side."""
    found = []
    for name, mine, theirs in (("blocks", hub[0], platform[0]), ("tonnes", hub[1], platform[1])):
        if mine != theirs:
            found.append(
                Discrepancy("totals", "7001", name, f"the hub counts {mine} {name}, the platform {theirs}")
            )
    return found


def compare_blocks(hub: Iterable[BlockView], platform: Iterable[BlockView]) -> list[Discrepancy]:
    mine = {block.block_id: block for block in hub}
    theirs = {block.block_id: block for block in platform}
    found = []
    for block_id in sorted(mine.keys() - theirs.keys()):
        found.append(Discrepancy("unit_blocks", "7002", block_id, "held at the hub, missing at the platform"))
    for block_id in sorted(theirs.keys() - mine.keys()):
        found.append(
            Discrepancy("unit_blocks", "7002", block_id, "reported by the platform, unknown at the hub")
        )
    for block_id in sorted(mine.keys() & theirs.keys()):
        a, b = mine[block_id], theirs[block_id]
        for name in ("serial_start", "serial_end", "quantity", "status"):
            if getattr(a, name) != getattr(b, name):
                found.append(
                    Discrepancy(
                        "unit_blocks", "7003", block_id,
                        f"{name}: hub {getattr(a, name)}, platform {getattr(b, name)}",
                    )
                )  # fmt: skip
    return found


def reconcile(
    hub_blocks: Iterable[BlockView],
    platform_blocks: Iterable[BlockView],
    platform_totals: tuple[int, int],
    audit_trail: Iterable[Discrepancy] = (),
) -> Outcome:
    """Totals, then unit blocks, then the audit trail; the first inconsistent stage names the status."""
    mine, theirs = list(hub_blocks), list(platform_blocks)
    totals = compare_totals((len(mine), sum(b.quantity for b in mine)), platform_totals)
    listed = compare_totals((len(theirs), sum(b.quantity for b in theirs)), platform_totals)
    units = compare_blocks(mine, theirs)
    trail = list(audit_trail)
    listed_mismatch = [
        Discrepancy("totals", "7004", d.subject, "the platform's totals do not add up its own block list")
        for d in listed
    ]
    everything = totals + listed_mismatch + units + trail
    if totals or listed_mismatch:
        return Outcome(Status.TOTALS_INCONSISTENT, everything)
    if units:
        return Outcome(Status.UNIT_BLOCKS_INCONSISTENT, everything)
    if trail:
        return Outcome(Status.AUDIT_TRAIL_INCONSISTENT, everything)
    return Outcome(Status.COMPLETED, [])
