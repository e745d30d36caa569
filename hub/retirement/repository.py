"""Every query of the retirement table."""

from __future__ import annotations

from sqlmodel import Session

from hub.retirement.models import RetirementRecord


class RetirementRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, registry: str, retirement_id: str) -> RetirementRecord | None:
        """The stored retirement ``retirement_id`` of ``registry`` (the session's copy when it has one)."""
        return self.session.get(RetirementRecord, (registry, retirement_id))
