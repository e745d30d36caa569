"""Every query of the witness: witnessed logs, the latest cosigned checkpoint per origin (created
once, then moved by compare-and-swap on its size), evidence (one row per distinct pair of
disagreeing checkpoints), and what each witness of our log last cosigned."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from hub.witness.models import WitnessCheckpoint, WitnessedLog, WitnessEvidence, WitnessSubmission

LOGS = WitnessedLog.__table__  # type: ignore[attr-defined]
LATEST = WitnessCheckpoint.__table__  # type: ignore[attr-defined]
EVIDENCE = WitnessEvidence.__table__  # type: ignore[attr-defined]
SUBMISSIONS = WitnessSubmission.__table__  # type: ignore[attr-defined]


class WitnessRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    # witnessed logs

    def log(self, origin: str) -> WitnessedLog | None:
        return self.session.get(WitnessedLog, origin, populate_existing=True)

    def logs(self, *, active_only: bool = False) -> list[WitnessedLog]:
        query = select(WitnessedLog).order_by(LOGS.c.origin)
        if active_only:
            query = query.where(LOGS.c.active.is_(True))
        return list(self.session.execute(query).scalars().all())

    def put_log(self, origin: str, vkeys: str, base_url: str | None, actor: str, at: datetime) -> bool:
        """Add the log or replace its keys (and URL); True when it was new."""
        found = self.log(origin)
        if found is None:
            try:
                with self.session.begin_nested():
                    self.session.execute(
                        insert(LOGS).values(
                            origin=origin,
                            vkeys=vkeys,
                            base_url=base_url,
                            active=True,
                            added_by=actor,
                            added_at=at,
                            updated_at=at,
                        )
                    )
                return True
            except IntegrityError:
                pass  # added meanwhile: replace its keys below
        self.session.execute(
            update(LOGS)
            .where(LOGS.c.origin == origin)
            .values(vkeys=vkeys, base_url=base_url, active=True, added_by=actor, updated_at=at)
        )
        return False

    def deactivate(self, origin: str, at: datetime) -> bool:
        moved = self.session.execute(
            update(LOGS)
            .where(LOGS.c.origin == origin, LOGS.c.active.is_(True))
            .values(active=False, updated_at=at)
        )
        return bool(moved.rowcount)  # type: ignore[attr-defined]

    # the latest cosigned checkpoint of an origin

    def latest(self, origin: str) -> Any | None:
        """(size, root_hash, note) of the latest cosigned checkpoint, read afresh."""
        return self.session.execute(
            select(LATEST.c.size, LATEST.c.root_hash, LATEST.c.note).where(LATEST.c.origin == origin)
        ).first()

    def create(self, origin: str, size: int, root: bytes, note: str, at: datetime) -> bool:
        """Store the first checkpoint of ``origin``; False if another request stored one first."""
        try:
            with self.session.begin_nested():
                self.session.execute(
                    insert(LATEST).values(origin=origin, size=size, root_hash=root, note=note, cosigned_at=at)
                )
        except IntegrityError:
            return False
        return True

    def advance(
        self, origin: str, old_size: int, old_root: bytes, size: int, root: bytes, note: str, at: datetime
    ) -> bool:
        """Compare-and-swap: move from (old_size, old_root) to the new checkpoint; False if it moved."""
        moved = self.session.execute(
            update(LATEST)
            .where(LATEST.c.origin == origin, LATEST.c.size == old_size, LATEST.c.root_hash == old_root)
            .values(size=size, root_hash=root, note=note, cosigned_at=at)
        )
        return bool(moved.rowcount)  # type: ignore[attr-defined]

    def forget(self, origin: str) -> None:
        self.session.execute(delete(LATEST).where(LATEST.c.origin == origin))

    # evidence and alarms

    def add_evidence(self, values: dict[str, Any]) -> int | None:
        """Keep the evidence: its id; None when the same evidence (digest) was kept before."""
        try:
            with self.session.begin_nested():
                found = self.session.execute(
                    insert(EVIDENCE).values(**values).returning(EVIDENCE.c.id)
                ).first()
        except IntegrityError:
            return None
        return None if found is None else int(found.id)

    def evidence(self, *, open_only: bool, limit: int = 100) -> list[WitnessEvidence]:
        query = select(WitnessEvidence).order_by(EVIDENCE.c.id.desc()).limit(limit)
        if open_only:
            query = query.where(EVIDENCE.c.acknowledged_at.is_(None))
        return list(self.session.execute(query).scalars().all())

    def evidence_row(self, evidence_id: int) -> WitnessEvidence | None:
        """The evidence ``evidence_id`` as the database holds it now (read again even when the
        session knows it: a Core update may have changed it), or None."""
        return self.session.get(WitnessEvidence, evidence_id, populate_existing=True)

    def open_alarms(self) -> int:
        found = self.session.execute(
            select(func.count()).select_from(EVIDENCE).where(EVIDENCE.c.acknowledged_at.is_(None))
        ).scalar_one()
        return int(found)

    def acknowledge(self, evidence_id: int, actor: str, at: datetime) -> bool:
        moved = self.session.execute(
            update(EVIDENCE)
            .where(EVIDENCE.c.id == evidence_id, EVIDENCE.c.acknowledged_at.is_(None))
            .values(acknowledged_at=at, acknowledged_by=actor)
        )
        return bool(moved.rowcount)  # type: ignore[attr-defined]

    # what the witnesses of our log last cosigned

    def submission_size(self, witness: str) -> int | None:
        found = self.session.execute(
            select(SUBMISSIONS.c.size).where(SUBMISSIONS.c.witness == witness)
        ).first()
        return None if found is None else int(found.size)

    def submissions(self) -> list[WitnessSubmission]:
        return list(
            self.session.execute(select(WitnessSubmission).order_by(SUBMISSIONS.c.name)).scalars().all()
        )

    def note_submission(
        self, witness: str, name: str, size: int | None, status: str, detail: str, at: datetime
    ) -> None:
        """Record a witness's answer and, unless None, the size it said it last cosigned."""
        values: dict[str, Any] = {"name": name, "status": status, "detail": detail[:2000], "attempted_at": at}
        found = self.submission_size(witness)
        if found is None:
            try:
                with self.session.begin_nested():
                    self.session.execute(
                        insert(SUBMISSIONS).values(witness=witness, size=size or 0, **values)
                    )
                return
            except IntegrityError:
                pass
        if size is not None:
            values["size"] = size
        self.session.execute(update(SUBMISSIONS).where(SUBMISSIONS.c.witness == witness).values(**values))
