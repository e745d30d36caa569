"""Recognition rulesets: the typed view of a ``ruleset`` payload, its digest, when it is in force,
and which ruleset is current for an (origin, destination) pair on a date.

A ruleset is pure data (no expressions): equivalences between registries' methodologies with a
rational factor and floor rounding, declarative eligibility conditions, purpose rules with limits,
effective dates and the sources of every factor. Signature checks live in ``standards.publishing``.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from schemas.validation import Issue, pointer, validate
from standards.catalogue import Catalogue
from standards.conditions import Condition, parse_condition
from standards.envelope import Digest, payload_digest
from standards.errors import RulesetError
from standards.rational import Rational


@dataclass(frozen=True, slots=True)
class Equivalence:
    """Origin registry + methodology → destination registry + methodology, with its factor."""

    equivalence_id: str | None
    origin_registry: str
    origin_catalogue_id: str
    origin_local_codes: tuple[str, ...]
    destination_registry: str
    destination_catalogue_id: str
    factor: Rational
    conditions: tuple[Condition, ...]
    purposes: tuple[str, ...]
    note: str | None = None

    @classmethod
    def from_dict(cls, value: Mapping[str, Any]) -> Equivalence:
        """From a schema-valid ``equivalences[]`` member."""
        return cls(
            equivalence_id=value.get("equivalence_id"),
            origin_registry=value["origin"]["registry"],
            origin_catalogue_id=value["origin"]["catalogue_id"],
            origin_local_codes=tuple(value["origin"].get("local_codes", ())),
            destination_registry=value["destination"]["registry"],
            destination_catalogue_id=value["destination"]["catalogue_id"],
            factor=Rational.from_dict(value["factor"]),
            conditions=tuple(parse_condition(item) for item in value["conditions"]),
            purposes=tuple(value["purposes"]),
            note=value.get("note"),
        )

    @property
    def label(self) -> str:
        """``JS PV-DISTRIBUTED -> SH PV-DISTRIBUTED`` (with local codes when restricted)."""
        codes = f" [{', '.join(self.origin_local_codes)}]" if self.origin_local_codes else ""
        return (
            f"{self.origin_registry} {self.origin_catalogue_id}{codes}"
            f" -> {self.destination_registry} {self.destination_catalogue_id}"
        )

    def applies_to(self, origin: str, catalogue_id: str, local_code: str, destination: str) -> bool:
        """Whether a block of ``origin``/``catalogue_id``/``local_code`` is covered toward
        ``destination``."""
        return (
            self.origin_registry == origin
            and self.origin_catalogue_id == catalogue_id
            and self.destination_registry == destination
            and (not self.origin_local_codes or local_code in self.origin_local_codes)
        )


@dataclass(frozen=True, slots=True)
class PurposeRule:
    """Which origins a destination accepts for a purpose, and the limits of that use."""

    destination: str
    purpose: str
    accepted_origins: tuple[str, ...]
    max_share_of_verified_emissions: Rational | None = None
    max_outside_region_share: Rational | None = None

    @classmethod
    def from_dict(cls, value: Mapping[str, Any]) -> PurposeRule:
        """From a schema-valid ``purpose_rules[]`` member."""
        limits = value.get("limits", {})
        total = limits.get("max_share_of_verified_emissions")
        outside = limits.get("max_outside_region_share")
        return cls(
            destination=value["destination"],
            purpose=value["purpose"],
            accepted_origins=tuple(value["accepted_origins"]),
            max_share_of_verified_emissions=Rational.from_dict(total) if total else None,
            max_outside_region_share=Rational.from_dict(outside) if outside else None,
        )

    @property
    def has_limits(self) -> bool:
        """Whether any limit applies to this purpose."""
        return self.max_share_of_verified_emissions is not None or self.max_outside_region_share is not None


@dataclass(frozen=True, slots=True)
class RulesetRef:
    """The exchange's ``rulesetRef``: id, version and digest of the canonical payload."""

    ruleset_id: str
    version: int
    digest: Digest

    def as_dict(self) -> dict[str, Any]:
        """The exchange form."""
        return {
            "ruleset_id": self.ruleset_id,
            "version": self.version,
            "digest": self.digest.as_dict(),
        }


def ruleset_issues(payload: Any, catalogue: Catalogue | None = None) -> list[Issue]:
    """Schema issues (1002), then what a schema cannot say: date ranges (3004), supersedes and
    repeated ids (5007), and with ``catalogue`` unknown methodologies or codes (5007)."""
    issues = validate("ruleset", payload)
    if issues:
        return issues
    if "effective_until" in payload and payload["effective_until"] < payload["effective_from"]:
        issues.append(Issue("/effective_until", "3004", "effective_until is before effective_from"))
    if payload.get("supersedes", 0) >= payload["version"]:
        issues.append(Issue("/supersedes", "5007", "a version can only supersede an earlier one"))
    seen: set[str] = set()
    for index, item in enumerate(payload["equivalences"]):
        where: list[str | int] = ["equivalences", index]
        if item.get("equivalence_id") in seen:
            issues.append(Issue(pointer([*where, "equivalence_id"]), "5007", "repeated id"))
        seen.add(item.get("equivalence_id", ""))
        if item["factor"]["numerator"] == 0:
            issues.append(Issue(pointer([*where, "factor"]), "5007", "a zero factor"))
        for position, condition in enumerate(item["conditions"]):
            body = condition.get("vintage_range")
            if body is not None and body["min"] > body["max"]:
                at = pointer([*where, "conditions", position, "vintage_range"])
                issues.append(Issue(at, "3004", "vintage range ends before it starts"))
        if catalogue is not None:
            issues.extend(_catalogue_issues(item, where, catalogue))
    pairs = [(rule["destination"], rule["purpose"]) for rule in payload["purpose_rules"]]
    for index, pair in enumerate(pairs):
        if pair in pairs[:index]:
            at = pointer(["purpose_rules", index])
            issues.append(Issue(at, "5007", f"a second rule for {pair[0]} {pair[1]}"))
    return issues


def _catalogue_issues(item: Mapping[str, Any], where: list[str | int], catalogue: Catalogue) -> list[Issue]:
    issues: list[Issue] = []
    for side in ("origin", "destination"):
        registry, catalogue_id = item[side]["registry"], item[side]["catalogue_id"]
        at = pointer([*where, side])
        if catalogue_id not in catalogue:
            issues.append(Issue(at, "5007", f"{catalogue_id} is not in the catalogue"))
        elif not catalogue.local_codes(catalogue_id, registry):
            issues.append(Issue(at, "5007", f"{registry} has no code for {catalogue_id}"))
    for index, code in enumerate(item["origin"].get("local_codes", ())):
        if catalogue.find(item["origin"]["registry"], code) != item["origin"]["catalogue_id"]:
            at = pointer([*where, "origin", "local_codes", index])
            issues.append(Issue(at, "5007", f"{code} is not a catalogue code of that methodology"))
    return issues


@dataclass(frozen=True, slots=True)
class Ruleset:
    """A parsed, consistent ruleset. ``payload`` is a copy of the document as given; ``digest`` covers its
    canonical bytes."""

    ruleset_id: str
    version: int
    supersedes: int | None
    committee: str
    effective_from: date
    effective_until: date | None
    equivalences: tuple[Equivalence, ...]
    purpose_rules: tuple[PurposeRule, ...]
    sources: tuple[str, ...]
    demonstration: bool
    payload: Mapping[str, Any]
    digest: Digest

    @classmethod
    def from_payload(cls, payload: Any, catalogue: Catalogue | None = None) -> Ruleset:
        """Parse a ruleset payload; :class:`RulesetError` lists every issue otherwise."""
        issues = ruleset_issues(payload, catalogue)
        if issues:
            codes = [issue.code for issue in issues]
            code = "1002" if "1002" in codes else "3004" if "3004" in codes else "5007"
            raise RulesetError(code, "the ruleset is not valid", issues)
        until = payload.get("effective_until")
        return cls(
            ruleset_id=payload["ruleset_id"],
            version=payload["version"],
            supersedes=payload.get("supersedes"),
            committee=payload["committee"],
            effective_from=date.fromisoformat(payload["effective_from"]),
            effective_until=date.fromisoformat(until) if until else None,
            equivalences=tuple(Equivalence.from_dict(item) for item in payload["equivalences"]),
            purpose_rules=tuple(PurposeRule.from_dict(item) for item in payload["purpose_rules"]),
            sources=tuple(payload["sources"]),
            demonstration=bool(payload.get("demonstration", False)),
            payload=copy.deepcopy(payload),
            digest=payload_digest(payload),
        )

    @property
    def ref(self) -> RulesetRef:
        """Id, version and digest, as decisions and certificates cite them."""
        return RulesetRef(self.ruleset_id, self.version, self.digest)

    def in_force(self, on_date: date) -> bool:
        """Whether ``on_date`` lies in [effective_from, effective_until] (inclusive)."""
        if on_date < self.effective_from:
            return False
        return self.effective_until is None or on_date <= self.effective_until

    def covers(self, origin: str, destination: str) -> bool:
        """Whether some equivalence goes from ``origin`` to ``destination``."""
        return any(
            item.origin_registry == origin and item.destination_registry == destination
            for item in self.equivalences
        )

    def equivalence_for(
        self, origin: str, catalogue_id: str, local_code: str, destination: str
    ) -> Equivalence | None:
        """The first equivalence (in document order) that covers the block toward
        ``destination``."""
        for item in self.equivalences:
            if item.applies_to(origin, catalogue_id, local_code, destination):
                return item
        return None

    def purpose_rule(self, destination: str, purpose: str) -> PurposeRule | None:
        """The rule for ``purpose`` at ``destination``, if the ruleset has one."""
        for rule in self.purpose_rules:
            if rule.destination == destination and rule.purpose == purpose:
                return rule
        return None


def select_current(
    rulesets: Iterable[Ruleset], origin: str, destination: str, on_date: date
) -> Ruleset | None:
    """The ruleset in force on ``on_date`` that covers ``origin`` → ``destination``.

    Within one ruleset id, the highest version in force replaces the earlier ones entirely (so an
    equivalence dropped by version 2 is no longer available through version 1). Among the ruleset
    ids whose current version covers the pair, the highest version wins, then the latest
    effective_from, then the ruleset id, so the choice is deterministic.
    """
    current: dict[str, Ruleset] = {}
    for ruleset in rulesets:
        if not ruleset.in_force(on_date):
            continue
        held = current.get(ruleset.ruleset_id)
        if held is None or ruleset.version > held.version:
            current[ruleset.ruleset_id] = ruleset
    covering = [item for item in current.values() if item.covers(origin, destination)]
    if not covering:
        return None
    return max(covering, key=lambda item: (item.version, item.effective_from, item.ruleset_id))


def require_current(rulesets: Iterable[Ruleset], origin: str, destination: str, on_date: date) -> Ruleset:
    """Like :func:`select_current`, but :class:`RulesetError` (5008) when there is none."""
    found = select_current(rulesets, origin, destination, on_date)
    if found is None:
        raise RulesetError(
            "5008", f"no ruleset in force on {on_date.isoformat()} covers {origin} -> {destination}"
        )
    return found
