"""Installing committee roots, publishing rulesets, answering what is in force.

The decisions are the ``standards`` package's; this service keeps what it accepted, exactly as
received, and turns its errors into problem details.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlmodel import Session

from hub.log.changes import record_change
from hub.platforms.repository import PlatformRepository
from hub.problems import Conflict, HubError, NotFound
from hub.standards.models import CommitteeRootRecord, RulesetRecord
from hub.standards.repository import StandardsRepository
from standards import (
    CommitteeRoot,
    Ruleset,
    StandardsError,
    ThresholdError,
    check_succession,
    diff_record,
    load_catalogue,
    parse_envelope,
    select_current,
    verify_initial_root,
    verify_root_update,
    verify_ruleset,
)


class StandardsRefused(HubError):
    status = 422
    slug = "standards-refused"
    title = "The standards document is refused"


class StandardsConflict(StandardsRefused):
    status = 409
    slug = "standards-conflict"


class StandardsNotFound(StandardsRefused):
    status = 404
    slug = "standards-not-found"
    title = "Not found"


_BY_CODE: dict[str, type[StandardsRefused]] = {
    "5006": StandardsConflict,
    "1023": StandardsConflict,
    "5008": StandardsNotFound,
    "5010": StandardsNotFound,
}


def refusal(error: StandardsError) -> HubError:
    """The problem answer for a standards error; a threshold refusal says who signed."""
    extra: dict[str, Any] = {}
    if isinstance(error, ThresholdError):
        extra = {"signatures": [result.as_dict() for result in error.results], "missing": error.missing}
    kind = _BY_CODE.get(error.code, StandardsRefused)
    return kind(error.message, code=error.code, errors=error.issues, extra=extra)


@dataclass(frozen=True)
class Published:
    record: RulesetRecord
    ruleset: Ruleset


def _parse(record: RulesetRecord) -> Ruleset:
    payload, _ = parse_envelope(record.envelope)
    return Ruleset.from_payload(payload)


def _received(envelope: Mapping[str, Any], received: str | None) -> str:
    return received if received is not None else json.dumps(envelope, ensure_ascii=False)


class StandardsService:
    def __init__(self, session: Session) -> None:
        self.repository = StandardsRepository(session)

    # committee roots
    def trusted_root(self, committee_id: str) -> CommitteeRoot:
        record = self.repository.current_root(committee_id)
        if record is None:
            raise NotFound(f"no root installed for committee {committee_id}", code="1025")
        payload, _ = parse_envelope(record.envelope)
        return CommitteeRoot.from_payload(payload)

    def install_root(
        self, envelope: Mapping[str, Any], *, by: str, received: str | None = None, at: datetime | None = None
    ) -> CommitteeRoot:
        """Install a committee's first root (an operator's act): self-signed to its threshold."""
        try:
            root = verify_initial_root(envelope, at=at)
        except StandardsError as error:
            raise refusal(error) from error
        if self.repository.current_root(root.committee_id) is not None:
            raise Conflict(
                f"committee {root.committee_id} already has a root; rotate it instead", code="1023"
            )
        self._store_root(root, envelope, by, received)
        return root

    def rotate_root(
        self, envelope: Mapping[str, Any], *, by: str, received: str | None = None, at: datetime | None = None
    ) -> CommitteeRoot:
        """Root N+1, signed by the root thresholds of both N and N+1."""
        try:
            payload, _ = parse_envelope(envelope)
            committee = str(payload.get("committee_id", ""))
            root = verify_root_update(self.trusted_root(committee), envelope, at=at)
        except StandardsError as error:
            raise refusal(error) from error
        self._store_root(root, envelope, by, received)
        return root

    def _store_root(
        self, root: CommitteeRoot, envelope: Mapping[str, Any], by: str, received: str | None
    ) -> None:
        record_change(
            self.repository.session,
            "root.installed" if root.version == 1 else "root.rotated",
            subject=("committee-root", f"{root.committee_id}.v{root.version}"),
            actor=by,
            platforms=self._everyone(),
            data={"committee_id": root.committee_id, "version": root.version, "keyids": sorted(root.keys)},
        )
        self.repository.add(
            CommitteeRootRecord(
                committee_id=root.committee_id,
                version=root.version,
                envelope=dict(envelope),
                received=_received(envelope, received),
                expires=root.expires,
                installed_by=by,
            )
        )

    def root_record(self, committee_id: str, version: int | None = None) -> CommitteeRootRecord:
        record = (
            self.repository.current_root(committee_id)
            if version is None
            else self.repository.root(committee_id, version)
        )
        if record is None:
            raise NotFound(f"no root {version or 'installed'} for committee {committee_id}")
        return record

    # rulesets
    def publish(
        self, envelope: Mapping[str, Any], *, by: str, received: str | None = None, at: datetime | None = None
    ) -> Published:
        """Accept a ruleset signed to the ``rulesets`` threshold of its committee's trusted root,
        following the versions already published."""
        try:
            payload, _ = parse_envelope(envelope)
            committee = str(payload.get("committee", "")) if isinstance(payload, Mapping) else ""
            root = self.trusted_root(committee)
            verified = verify_ruleset(envelope, root, at=at, catalogue=load_catalogue())
            ruleset = verified.ruleset
            check_succession(ruleset, [_parse(r) for r in self.repository.versions(ruleset.ruleset_id)])
        except StandardsError as error:
            raise refusal(error) from error
        record = RulesetRecord(
            ruleset_id=ruleset.ruleset_id,
            version=ruleset.version,
            committee_id=ruleset.committee,
            envelope=dict(envelope),
            received=_received(envelope, received),
            digest=ruleset.digest.value,
            effective_from=ruleset.effective_from,
            effective_until=ruleset.effective_until,
            signed_by=list(verified.result.signed),
            published_by=by,
        )
        self.repository.add(record)
        record_change(
            self.repository.session,
            "ruleset.published",
            subject=("ruleset", f"{ruleset.ruleset_id}.v{ruleset.version}"),
            actor=by,
            platforms=self._everyone(),
            data={"ruleset": ruleset.ref.as_dict(), "signed_by": record.signed_by},
        )
        return Published(record, ruleset)

    def _everyone(self) -> list[str]:
        return [platform.code for platform in PlatformRepository(self.repository.session).list()]

    def version(self, ruleset_id: str, version: int) -> Published:
        record = self.repository.ruleset(ruleset_id, version)
        if record is None:
            raise NotFound(f"no ruleset {ruleset_id} version {version}", code="5008")
        return Published(record, _parse(record))

    def listing(self, *, newest_first: bool = False) -> list[RulesetRecord]:
        return list(self.repository.rulesets(newest_first=newest_first))

    def newest_in_force(self, on_date: date | None = None) -> set[tuple[str, int]]:
        """(ruleset id, version) of the newest version of each ruleset in force on ``on_date``
        (today when not given)."""
        newest: dict[str, int] = {}
        for record in self.repository.in_force(on_date or datetime.now(UTC).date()):
            newest[record.ruleset_id] = max(newest.get(record.ruleset_id, 0), record.version)
        return set(newest.items())

    def current(self, origin: str, destination: str, on_date: date | None = None) -> Published:
        day = on_date or datetime.now(UTC).date()
        records = {(r.ruleset_id, r.version): r for r in self.repository.in_force(day)}
        parsed = {key: _parse(record) for key, record in records.items()}
        chosen = select_current(parsed.values(), origin, destination, day)
        if chosen is None:
            raise NotFound(f"no ruleset in force on {day} covers {origin} -> {destination}", code="5008")
        return Published(records[(chosen.ruleset_id, chosen.version)], chosen)

    def diff(self, ruleset_id: str, old: int, new: int) -> dict[str, Any]:
        return diff_record(self.version(ruleset_id, old).ruleset, self.version(ruleset_id, new).ruleset)
