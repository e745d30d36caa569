"""The reports' queries: approved recognitions, completed transfers, retirements, holdings, and the
dashboard's transfer states and recent log events."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from hub.log.models import LogEntry
from hub.recognition.models import Recognition
from hub.registry.models import CreditBlock
from hub.retirement.models import RetirementRecord
from hub.transfers.models import Transfer


class ReportRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def approved_recognitions(self) -> Sequence[Recognition]:
        return self.session.exec(select(Recognition).where(Recognition.status == "approved")).all()

    def completed_transfers(self) -> Sequence[Transfer]:
        return self.session.exec(select(Transfer).where(Transfer.state == "completed")).all()

    def retirements(self) -> Sequence[RetirementRecord]:
        return self.session.exec(select(RetirementRecord)).all()

    def holdings(self) -> Sequence[Any]:
        """(registry, status, methodology, vintage, blocks, tonnes) rows."""
        c = CreditBlock.__table__.c  # type: ignore[attr-defined]
        return self.session.execute(
            sa_select(
                c.current_registry, c.status, c.catalogue_id, c.vintage, func.count(), func.sum(c.quantity)
            ).group_by(c.current_registry, c.status, c.catalogue_id, c.vintage)
        ).all()

    def transfer_states(self) -> Sequence[Any]:
        """(state, transfers) rows."""
        return self.session.exec(select(Transfer.state, func.count()).group_by(Transfer.state)).all()

    def recent_events(self, limit: int) -> Sequence[LogEntry]:
        """The last ``limit`` log entries, newest first."""
        return self.session.exec(select(LogEntry).order_by(col(LogEntry.index).desc()).limit(limit)).all()
