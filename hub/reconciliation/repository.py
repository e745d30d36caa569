"""Every query a reconciliation makes: its own rows, and the registry's blocks, ingests and log
entries it checks."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session, col, select

from hub.log.models import LogEntry
from hub.reconciliation.models import Reconciliation
from hub.registry.models import CreditBlock, IngestBatch


class ReconciliationRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def blocks_held_by(self, platform: str) -> Sequence[CreditBlock]:
        """The blocks ``platform`` holds now (any status), in block id order."""
        return self.session.exec(
            select(CreditBlock)
            .where(CreditBlock.current_registry == platform)
            .order_by(col(CreditBlock.block_id))
        ).all()

    def ingests_of(self, platform: str) -> Sequence[IngestBatch]:
        """Every ingest batch of ``platform`` (no order)."""
        return self.session.exec(select(IngestBatch).where(IngestBatch.platform == platform)).all()

    def log_entry(self, index: int) -> LogEntry | None:
        """The log entry at ``index``, or None."""
        return self.session.get(LogEntry, index)

    def get(self, reconciliation_id: str) -> Reconciliation | None:
        """The reconciliation ``reconciliation_id``, or None."""
        return self.session.get(Reconciliation, reconciliation_id)
