"""Every query on committee roots and rulesets."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from sqlmodel import Session, col, or_, select

from hub.standards.models import CommitteeRootRecord, RulesetRecord


class StandardsRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def current_root(self, committee_id: str) -> CommitteeRootRecord | None:
        return self.session.exec(
            select(CommitteeRootRecord)
            .where(CommitteeRootRecord.committee_id == committee_id)
            .order_by(col(CommitteeRootRecord.version).desc())
            .limit(1)
        ).first()

    def root(self, committee_id: str, version: int) -> CommitteeRootRecord | None:
        return self.session.get(CommitteeRootRecord, (committee_id, version))

    def committees(self) -> Sequence[str]:
        return self.session.exec(select(CommitteeRootRecord.committee_id).distinct()).all()

    def add(self, record: CommitteeRootRecord | RulesetRecord) -> None:
        self.session.add(record)
        self.session.flush()

    def ruleset(self, ruleset_id: str, version: int) -> RulesetRecord | None:
        return self.session.get(RulesetRecord, (ruleset_id, version))

    def versions(self, ruleset_id: str) -> Sequence[RulesetRecord]:
        return self.session.exec(
            select(RulesetRecord)
            .where(RulesetRecord.ruleset_id == ruleset_id)
            .order_by(col(RulesetRecord.version))
        ).all()

    def rulesets(self, *, newest_first: bool = False) -> Sequence[RulesetRecord]:
        """Every ruleset version, by ruleset id, each ruleset's versions in order (``newest_first``:
        in reverse)."""
        version = col(RulesetRecord.version)
        return self.session.exec(
            select(RulesetRecord).order_by(
                col(RulesetRecord.ruleset_id), version.desc() if newest_first else version
            )
        ).all()

    def in_force(self, on_date: date) -> Sequence[RulesetRecord]:
        return self.session.exec(
            select(RulesetRecord).where(
                col(RulesetRecord.effective_from) <= on_date,
                or_(
                    col(RulesetRecord.effective_until).is_(None),
                    col(RulesetRecord.effective_until) >= on_date,
                ),
            )
        ).all()
