"""Deduplication against what the registry holds: double issuance across registries (4001) and
personal activity counted twice (4002). The rules are ``mutual_recognition.dedup``'s; this keeps
the claims they compare (``issuance_claim``, ``personal_activity``) and queries them by index.

The tables also hold the claims of peered hubs (``hub.xdedup``), under ids no local claim can
have: ``@<peer origin>/<block id>`` and ``@<peer origin>/<batch id>`` (an exchange identifier never
starts with ``@``). The checks compare them as any other registry's; a refusal names the hub."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from sqlmodel import Session

from hub.dates import aware
from hub.registry.models import IssuanceClaim, PersonalActivity
from hub.registry.repository import RegistryRepository
from mutual_recognition.dedup import (
    Activity,
    Issuance,
    double_issuances,
    personal_duplicates,
    project_fingerprint,
)
from schemas.validation import Issue

if TYPE_CHECKING:
    from hub.registry.batch import Records

__all__ = ["PEER_PREFIX", "DedupService", "IssuanceClaim", "PersonalActivity", "peer_id", "split_peer_id"]

PEER_PREFIX = "@"


def peer_id(origin: str, local_id: str) -> str:
    """The id under which a peer hub's claim is stored here (never a local identifier)."""
    return f"{PEER_PREFIX}{origin}/{local_id}"


def split_peer_id(ref: str, parts: int = 1) -> tuple[str | None, str]:
    """(peer origin, the peer's own ref) of a stored ref; (None, ref) for a local claim. ``parts``:
    how many /-separated identifiers follow the origin (1: a block id, 2: batch id/record id)."""
    if not ref.startswith(PEER_PREFIX):
        return None, ref
    pieces = ref[len(PEER_PREFIX) :].rsplit("/", parts)
    return pieces[0], "/".join(pieces[1:])


def _named(ref: str, parts: int = 1) -> str:
    origin, own = split_peer_id(ref, parts)
    return own if origin is None else f"{own} at hub {origin}"


# a block's claim: its position in the batch, project fingerprint, period start and end, block id
# (an Issuance is made only when there is something to compare it with)
Claim = tuple[int, str, date, date, str]


def _instant(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


class DedupService:
    """The comparisons of one batch. Its claims are worked out once (``record`` after ``issues``
    of the same records reuses them): one fingerprint per project, one date per distinct text."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.repository = RegistryRepository(session)
        self._memo: tuple[str, Records, list[Claim]] | None = None

    def _claims(self, platform: str, records: Records) -> list[Claim]:
        if self._memo is not None and self._memo[0] == platform and self._memo[1] is records:
            return self._memo[2]
        projects: dict[tuple[str, str], Any] = {(p["registry"], p["project_id"]): p for p in records.projects}
        prints: dict[tuple[str, str], str | None] = {}
        dates: dict[str, date] = {}
        claims: list[Claim] = []
        for position, block in enumerate(records.blocks):
            period = block.get("monitoring_period")
            if period is None:
                continue  # no period: nothing to compare
            ref = block["project"]
            key = (ref["registry"], ref["project_id"])
            if key not in prints:
                if key not in projects:
                    stored = self.repository.project(*key)
                    projects[key] = stored.record if stored else None
                project = projects[key]
                prints[key] = None if project is None else project_fingerprint(project)
            fingerprint = prints[key]
            if fingerprint is None:
                continue  # no project facts: nothing to compare
            start, end = period["start"], period["end"]
            if start not in dates:
                dates[start] = date.fromisoformat(start)
            if end not in dates:
                dates[end] = date.fromisoformat(end)
            claims.append((position, fingerprint, dates[start], dates[end], block["block_id"]))
        self._memo = (platform, records, claims)
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

    def _registered(self, platform: str, claims: Sequence[Claim]) -> list[Issuance]:
        """Other registries' claims on the batch's projects that overlap its periods: per project
        fingerprint one indexed query over the span of the batch's periods (the exact pairs are
        then made in memory among these few)."""
        spans: dict[str, tuple[date, date]] = {}
        for _, fingerprint, start, end, _ in claims:
            low, high = spans.get(fingerprint, (start, end))
            spans[fingerprint] = (min(low, start), max(high, end))
        found: list[Issuance] = []
        # writers of one project's claims (ingests, a peer's claims arriving) one at a time
        self.repository.lock_fingerprints(spans)
        for fingerprint, (low, high) in sorted(spans.items()):
            found += [
                Issuance(*row)
                for row in self.repository.issuance_candidates(fingerprint, platform, low, high)
            ]
        return found

    def issues(self, platform: str, records: Records) -> list[Issue]:
        """Every double issuance and personal duplicate the records would create. The claims
        worked out here are what ``record`` stores next (a new call works them out afresh)."""
        issues: list[Issue] = []
        self._memo = None
        claims = self._claims(platform, records)
        registered = self._registered(platform, claims) if claims else []
        if registered:
            new = [
                Issuance(platform, fingerprint, start, end, ref) for _, fingerprint, start, end, ref in claims
            ]
            positions = {ref: position for position, _, _, _, ref in claims}
            for claim, other in double_issuances(new, registered):
                issues.append(
                    Issue(
                        f"/blocks/{positions[claim.ref]}/project",
                        "4001",
                        f"the project is already credited by {other.registry}"
                        f" ({_named(other.ref)}, {other.start}–{other.end})",
                    )
                )
        activities = self._activities(platform, records)
        if activities:
            subjects = sorted({a.subject for _, a in activities})
            known = [
                Activity(
                    r.platform,
                    r.subject,
                    r.scenario,
                    aware(r.window_start),
                    aware(r.window_end),
                    r.trip_id,
                    f"{r.batch_id}/{r.record_id}",
                )
                for r in self.repository.activities_of(subjects)
            ]
            pointers = {activity.ref: pointer for pointer, activity in activities}
            for mine, theirs in personal_duplicates([a for _, a in activities], known):
                issues.append(
                    Issue(
                        pointers[mine.ref],
                        "4002",
                        f"already counted by {theirs.platform} ({_named(theirs.ref, 2)})",
                    )
                )
        return issues

    def record(self, platform: str, records: Records, log_index: int) -> tuple[int, list[Activity]]:
        """Keep the claims of stored records for later comparisons (one COPY or executemany).
        The issuance claims are also the ingest's first entries in the claim feed (hub.xdedup):
        stored with ``log_index`` and their positions 0 .. n-1; n and the activities (the feed's
        next entries, published by the caller) are returned."""
        claims = self._claims(platform, records)
        self.repository.insert_issuance_claims(
            [(ref, platform, fingerprint, start, end) for _, fingerprint, start, end, ref in claims],
            log_index=log_index,
        )
        activities = [activity for _, activity in self._activities(platform, records)]
        rows = []
        for done in activities:
            batch_id, record_id = done.ref.split("/", 1)
            rows.append(
                {
                    "platform": platform,
                    "batch_id": batch_id,
                    "record_id": record_id,
                    "subject": done.subject,
                    "scenario": done.scenario,
                    "window_start": done.start.astimezone(UTC),  # SQLite keeps no offset: UTC
                    "window_end": done.end.astimezone(UTC),
                    "trip_id": done.trip_id,
                }
            )
        self.repository.insert_activities(rows)
        return len(claims), activities
