"""What the reconciliation routes answer, typed."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from hub.reconciliation.models import Reconciliation
from hub.records import Public
from mutual_recognition.reconciliation import Status


class DiscrepancyPublic(Public):
    stage: Literal["totals", "unit_blocks", "audit_trail"]
    code: str = Field(description="The check code (docs/check-codes.md).")
    subject: str
    detail: str


class ReconciliationPublic(Public):
    """A platform's view of its holdings compared with the hub's, and what differed."""

    id: str
    platform: str
    status: Status
    discrepancies: list[DiscrepancyPublic]
    log_index: int | None
    created_at: str
    resolved_by: str | None
    resolution_note: str | None


def reconciliation_public(item: Reconciliation) -> ReconciliationPublic:
    return ReconciliationPublic(
        id=item.id,
        platform=item.platform,
        status=Status(item.status),
        discrepancies=[DiscrepancyPublic.model_validate(d) for d in item.discrepancies],
        log_index=item.log_index,
        created_at=item.created_at.isoformat(),
        resolved_by=item.resolved_by,
        resolution_note=item.resolution_note,
    )
