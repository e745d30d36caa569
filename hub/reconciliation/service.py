"""Running a reconciliation against the registry and the log; resolving one by hand."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlmodel import Session

from hub.log.changes import append_change, record_change
from hub.problems import Conflict, NotFound
from hub.reconciliation.models import Reconciliation
from hub.reconciliation.repository import ReconciliationRepository
from mutual_recognition.reconciliation import BlockView, Discrepancy, Status, reconcile


class ReconciliationService:
    def __init__(self, session: Session) -> None:
        self.session = session
        self.repository = ReconciliationRepository(session)

    def _hub_blocks(self, platform: str) -> list[BlockView]:
        rows = self.repository.blocks_held_by(platform)
        return [BlockView(b.block_id, b.serial_start, b.serial_end, b.quantity, b.status) for b in rows]

    def _audit_trail(self, platform: str) -> list[Discrepancy]:
        """Every ingest of the platform is recorded, with the same digest, at its log index."""
        found = []
        batches = self.repository.ingests_of(platform)
        for batch in batches:
            entry = self.repository.log_entry(batch.log_index)
            if entry is None or entry.type != "batch.ingested" or entry.subject_id != batch.id:
                found.append(
                    Discrepancy("audit_trail", "7005", batch.id, f"no log entry {batch.log_index} for it")
                )
            elif f'"digest":"{batch.digest}"' not in entry.entry.decode("utf-8"):
                found.append(
                    Discrepancy("audit_trail", "7005", batch.id, "its log entry names another digest")
                )
        return found

    def run(
        self,
        platform: str,
        totals: tuple[int, int],
        blocks: Sequence[BlockView],
        *,
        actor: str,
        submitted: dict[str, Any],
    ) -> Reconciliation:
        outcome = reconcile(self._hub_blocks(platform), blocks, totals, self._audit_trail(platform))
        reconciliation_id = str(uuid.uuid4())
        index = append_change(
            self.session,
            "reconciliation.completed"
            if outcome.status is Status.COMPLETED
            else "reconciliation.inconsistent",
            subject=("reconciliation", reconciliation_id),
            actor=actor,
            platforms=[platform],
            data={"status": str(outcome.status), "discrepancies": len(outcome.discrepancies)},
        )
        record = Reconciliation(
            id=reconciliation_id,
            platform=platform,
            status=str(outcome.status),
            submitted=submitted,
            discrepancies=[d.as_dict() for d in outcome.discrepancies],
            log_index=index,
        )
        self.session.add(record)
        self.session.flush()
        return record

    def get(self, reconciliation_id: str) -> Reconciliation:
        found = self.repository.get(reconciliation_id)
        if found is None:
            raise NotFound(f"no reconciliation {reconciliation_id}")
        return found

    def resolve(self, reconciliation_id: str, note: str, *, actor: str) -> Reconciliation:
        """An operator closes an inconsistent reconciliation after fixing the cause elsewhere."""
        record = self.get(reconciliation_id)
        if record.status in (Status.COMPLETED, Status.COMPLETED_AFTER_MANUAL_INTERVENTION):
            raise Conflict(f"reconciliation {reconciliation_id} is already {record.status}", code="7006")
        record.status = str(Status.COMPLETED_AFTER_MANUAL_INTERVENTION)
        record.resolved_by, record.resolution_note = actor, note
        record_change(
            self.session,
            "reconciliation.resolved",
            subject=("reconciliation", reconciliation_id),
            actor=actor,
            platforms=[record.platform],
            data={"note": note},
        )
        self.session.add(record)
        self.session.flush()
        return record
