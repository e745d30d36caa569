"""Activity-level deduplication across registries, exact rather than heuristic.

- **Double issuance**: two registries crediting the same physical project — same fingerprint
  (methodology family, most precise administrative division, capacity in a common unit, the owner's
  hashed unified social credit code) — for overlapping monitoring periods (沪环规〔2025〕10号 art. 3:
  reductions inside CCER follow CCER).
- **Personal duplicates**: the same pseudonym, scenario and overlapping activity window counted by
  two platforms (with trip ids on both sides, only the same trip) — e.g. a Line 11 metro trip
  between Anting and Huaqiao counted by Shanghai and by Jiangsu/Zhejiang apps.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

WATTS = {"W": 1, "kW": 1_000, "MW": 1_000_000}
FAMILY = {
    "PV-DISTRIBUTED": "solar-pv",
    "SOLAR-THERMAL": "solar-thermal",
    "WIND-OFFSHORE": "wind",
    "AFFORESTATION": "forestry",
    "MANGROVE": "forestry",
}


def project_fingerprint(project: Mapping[str, Any]) -> str:
    """A stable hash of what identifies a physical project across registries."""
    location = project["location"]
    place = location.get("district") or location.get("city") or location["province"]
    capacity = project.get("capacity")
    size = None
    if capacity is not None:
        unit = capacity["unit"]
        size = f"{capacity['value'] * WATTS[unit]}W" if unit in WATTS else f"{capacity['value']}{unit}"
    catalogue_id = project["methodology"]["catalogue_id"]
    facts = {
        "family": FAMILY.get(catalogue_id, catalogue_id),
        "place": place,
        "size": size,
        "owner": project["owner_uscc_hash"],
    }
    return hashlib.sha256(json.dumps(facts, sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Issuance:
    """A block's claim: which registry credited which project fingerprint for which period."""

    registry: str
    fingerprint: str
    start: date
    end: date
    ref: str

    def overlaps(self, other: Issuance) -> bool:
        return self.start <= other.end and other.start <= self.end


def double_issuances(
    new: Iterable[Issuance], registered: Iterable[Issuance]
) -> list[tuple[Issuance, Issuance]]:
    """Pairs (new, registered) of the same project credited by two registries for overlapping periods."""
    by_fingerprint: dict[str, list[Issuance]] = {}
    for item in registered:
        by_fingerprint.setdefault(item.fingerprint, []).append(item)
    return [
        (claim, other)
        for claim in new
        for other in by_fingerprint.get(claim.fingerprint, [])
        if other.registry != claim.registry and claim.overlaps(other)
    ]


@dataclass(frozen=True, slots=True)
class Activity:
    platform: str
    subject: str
    scenario: str
    start: datetime
    end: datetime
    trip_id: str | None
    ref: str

    def duplicates(self, other: Activity) -> bool:
        if self.platform == other.platform or (self.subject, self.scenario) != (
            other.subject,
            other.scenario,
        ):
            return False
        if self.trip_id and other.trip_id:
            return self.trip_id == other.trip_id
        return self.start < other.end and other.start < self.end


def personal_duplicates(
    new: Iterable[Activity], registered: Iterable[Activity]
) -> list[tuple[Activity, Activity]]:
    """Pairs (new, registered) of one activity counted by two platforms."""
    index: dict[tuple[str, str], list[Activity]] = {}
    for item in registered:
        index.setdefault((item.subject, item.scenario), []).append(item)
    return [
        (activity, other)
        for activity in new
        for other in index.get((activity.subject, activity.scenario), [])
        if activity.duplicates(other)
    ]
