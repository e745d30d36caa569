"""Deduplication against what the registry holds: double issuance across registries (4001) and
personal activity counted twice (4002). The rules are ``mutual_recognition.dedup``'s; this keeps
the claims they compare (``issuance_claim``, ``personal_activity``) and queries them by index."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import BigInteger, Column, Date, DateTime, Index
from sqlmodel import Field, Session, SQLModel, col, select

from hub.registry.models import ProjectRecord
from mutual_recognition.dedup import (
    Activity,
    Issuance,
    double_issuances,
    personal_duplicates,
    project_fingerprint,
)
from schemas.validation import Issue

if TYPE_CHECKING:
    from hub.registry.ingest import Records


class IssuanceClaim(SQLModel, table=True):
    __tablename__ = "issuance_claim"

    block_id: str = Field(primary_key=True, max_length=128)
    registry_code: str = Field(max_length=16)
    fingerprint: str = Field(max_length=64, index=True)
    period_start: date = Field(sa_column=Column(Date, nullable=False))
    period_end: date = Field(sa_column=Column(Date, nullable=False))


class PersonalActivity(SQLModel, table=True):
    __tablename__ = "personal_activity"
    __table_args__ = (Index("ix_personal_activity_subject", "subject", "scenario"),)

    id: int | None = Field(default=None, sa_column=Column(BigInteger, primary_key=True, autoincrement=True))
    platform: str = Field(max_length=16)
    batch_id: str = Field(max_length=128)
    record_id: str = Field(max_length=128)
    subject: str = Field(max_length=64)
    scenario: str = Field(max_length=64)
    window_start: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    window_end: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    trip_id: str | None = Field(default=None, max_length=128)


def _instant(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


class DedupService:
    def __init__(self, session: Session) -> None:
        self.session = session

    def _claims(self, platform: str, records: Records) -> list[tuple[int, Issuance]]:
        projects: dict[tuple[str, str], Any] = {(p["registry"], p["project_id"]): p for p in records.projects}
        claims = []
        for position, block in enumerate(records.blocks):
            period = block.get("monitoring_period")
            key = (block["project"]["registry"], block["project"]["project_id"])
            if key not in projects:
                stored = self.session.get(ProjectRecord, key)
                projects[key] = stored.record if stored else None
            project = projects[key]
            if period is None or project is None:
                continue  # no period or no project facts: nothing to compare
            claims.append(
                (
                    position,
                    Issuance(
                        platform,
                        project_fingerprint(project),
                        date.fromisoformat(period["start"]),
                        date.fromisoformat(period["end"]),
                        block["block_id"],
                    ),
                )
            )
        return claims

    def _activities(self, platform: str, records: Records) -> list[tuple[str, Activity]]:
        found = []
        for b, batch in enumerate(records.batches):
            for r, item in enumerate(batch["records"]):
                window = item["activity_window"]
                activity = Activity(
                    platform,
                    item["subject"],
                    batch["scenario"],
                    _instant(window["start"]),
                    _instant(window["end"]),
                    item.get("trip_id"),
                    f"{batch['batch_id']}/{item['record_id']}",
                )
                found.append((f"/batches/{b}/records/{r}", activity))
        return found

    def issues(self, platform: str, records: Records) -> list[Issue]:
        """Every double issuance and personal duplicate the records would create."""
        issues: list[Issue] = []
        claims = self._claims(platform, records)
        if claims:
            prints = sorted({claim.fingerprint for _, claim in claims})
            rows = self.session.exec(
                select(IssuanceClaim).where(col(IssuanceClaim.fingerprint).in_(prints))
            ).all()
            registered = [
                Issuance(r.registry_code, r.fingerprint, r.period_start, r.period_end, r.block_id)
                for r in rows
            ]
            positions = {claim.ref: position for position, claim in claims}
            for claim, other in double_issuances([c for _, c in claims], registered):
                issues.append(
                    Issue(
                        f"/blocks/{positions[claim.ref]}/project",
                        "4001",
                        f"the project is already credited by {other.registry}"
                        f" ({other.ref}, {other.start}–{other.end})",
                    )
                )
        activities = self._activities(platform, records)
        if activities:
            subjects = sorted({a.subject for _, a in activities})
            rows2 = self.session.exec(
                select(PersonalActivity).where(col(PersonalActivity.subject).in_(subjects))
            ).all()
            known = [
                Activity(
                    r.platform,
                    r.subject,
                    r.scenario,
                    r.window_start,
                    r.window_end,
                    r.trip_id,
                    f"{r.batch_id}/{r.record_id}",
                )
                for r in rows2
            ]
            pointers = {activity.ref: pointer for pointer, activity in activities}
            for mine, theirs in personal_duplicates([a for _, a in activities], known):
                issues.append(
                    Issue(pointers[mine.ref], "4002", f"already counted by {theirs.platform} ({theirs.ref})")
                )
        return issues

    def record(self, platform: str, records: Records) -> None:
        """Keep the claims of stored records for later comparisons."""
        rows: list[Any] = [
            IssuanceClaim(
                block_id=c.ref,
                registry_code=c.registry,
                fingerprint=c.fingerprint,
                period_start=c.start,
                period_end=c.end,
            )
            for _, c in self._claims(platform, records)
        ]
        for _, done in self._activities(platform, records):
            batch_id, record_id = done.ref.split("/", 1)
            rows.append(
                PersonalActivity(
                    platform=platform,
                    batch_id=batch_id,
                    record_id=record_id,
                    subject=done.subject,
                    scenario=done.scenario,
                    window_start=done.start,
                    window_end=done.end,
                    trip_id=done.trip_id,
                )
            )
        self.session.add_all(rows)
