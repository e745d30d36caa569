"""Evaluating a credit block against a ruleset: the pure core of a recognition decision.

``evaluate`` never raises on a policy failure: every check (ruleset in force 5002, methodology
known 5010, equivalence 5001, eligibility conditions 5003, purpose 5004, limits 5005/5009) is in
the :class:`Decision` with its reason, and ``eligible`` is true only when all passed. It raises
only on unusable inputs (1002, 1004). The same inputs give the same ``canonical_bytes()``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from schemas.canonical import canonicalize
from standards.catalogue import Catalogue, MethodologyRef, load_catalogue
from standards.conditions import ConditionOutcome
from standards.errors import CatalogueError
from standards.facts import BlockFacts, ProjectFacts, PurposeUsage
from standards.purposes import CheckOutcome, limit_check, purpose_check
from standards.rational import Rational, floor_convert
from standards.rulesets import Equivalence, Ruleset, RulesetRef


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome of evaluating one block for one destination, purpose and date."""

    ruleset: RulesetRef
    demonstration: bool
    block_id: str
    origin: str
    destination: str
    purpose: str
    on_date: date
    origin_methodology: MethodologyRef
    destination_methodology: MethodologyRef | None
    equivalence: Equivalence | None
    quantity: int
    unit: str
    converted_quantity: int | None
    remainder: Rational | None
    conditions: tuple[ConditionOutcome, ...]
    purpose_accepted: bool
    checks: tuple[CheckOutcome, ...]

    @property
    def eligible(self) -> bool:
        """Whether every check passed."""
        return all(check.passed for check in self.checks)

    @property
    def failures(self) -> tuple[CheckOutcome, ...]:
        """The checks that failed, in evaluation order."""
        return tuple(check for check in self.checks if not check.passed)

    @property
    def factor(self) -> Rational | None:
        """The factor of the equivalence applied, as the ruleset states it."""
        return self.equivalence.factor if self.equivalence is not None else None

    def evaluation_record(self) -> dict[str, Any] | None:
        """The ``evaluation`` member of a ``recognition-decision``; None without an equivalence
        or a destination methodology."""
        if (
            self.equivalence is None
            or self.destination_methodology is None
            or self.converted_quantity is None
            or self.remainder is None
        ):
            return None
        return {
            "ruleset": self.ruleset.as_dict(),
            "origin_methodology": self.origin_methodology.as_dict(),
            "destination_methodology": self.destination_methodology.as_dict(),
            "quantity": self.quantity,
            "unit": self.unit,
            "factor": self.equivalence.factor.as_dict(),
            "converted_quantity": self.converted_quantity,
            "converted_unit": self.unit,
            "remainder": self.remainder.as_dict(),
            "conditions": [outcome.as_dict() for outcome in self.conditions],
        }

    def as_record(self) -> dict[str, Any]:
        """The whole decision as JSON (integers, strings, booleans, null; no floats)."""
        equivalence = self.equivalence
        return {
            "ruleset": self.ruleset.as_dict(),
            "demonstration": self.demonstration,
            "block_id": self.block_id,
            "origin": self.origin,
            "destination": self.destination,
            "purpose": self.purpose,
            "on_date": self.on_date.isoformat(),
            "origin_methodology": self.origin_methodology.as_dict(),
            "destination_methodology": (
                self.destination_methodology.as_dict() if self.destination_methodology else None
            ),
            "equivalence": (
                {"equivalence_id": equivalence.equivalence_id, "label": equivalence.label}
                if equivalence is not None
                else None
            ),
            "quantity": self.quantity,
            "unit": self.unit,
            "factor": self.factor.as_dict() if self.factor else None,
            "converted_quantity": self.converted_quantity,
            "converted_unit": self.unit if self.converted_quantity is not None else None,
            "remainder": self.remainder.as_dict() if self.remainder else None,
            "conditions": [outcome.as_dict() for outcome in self.conditions],
            "purpose_accepted": self.purpose_accepted,
            "checks": [check.as_dict() for check in self.checks],
            "eligible": self.eligible,
        }

    def canonical_bytes(self) -> bytes:
        """RFC 8785 bytes of :meth:`as_record`."""
        return canonicalize(self.as_record())


def _in_force_check(ruleset: Ruleset, on_date: date) -> CheckOutcome:
    until = ruleset.effective_until.isoformat() if ruleset.effective_until else "open"
    span = f"{ruleset.effective_from.isoformat()}–{until}"
    word = "in force" if ruleset.in_force(on_date) else "not in force"
    name = f"{ruleset.ruleset_id} v{ruleset.version}"
    return CheckOutcome("5002", word == "in force", f"{name} ({span}) {word} on {on_date}")


def _origin_check(block: BlockFacts, catalogue: Catalogue) -> CheckOutcome:
    ref = block.methodology
    found = catalogue.find(block.origin_registry, ref.local_code)
    text = f"{block.origin_registry} code {ref.local_code}"
    if found == ref.catalogue_id:
        return CheckOutcome("5010", True, f"{text} is {found}")
    if found is None:
        return CheckOutcome("5010", False, f"{text} is not in the catalogue")
    return CheckOutcome("5010", False, f"{text} is {found}, not {ref.catalogue_id}")


def evaluate(
    block: Mapping[str, Any] | BlockFacts,
    *,
    destination: str,
    purpose: str,
    on_date: date,
    ruleset: Ruleset | Mapping[str, Any],
    project: ProjectFacts | None = None,
    usage: PurposeUsage | None = None,
    catalogue: Catalogue | None = None,
) -> Decision:
    """Evaluate ``block`` (a credit-block record) for ``destination`` and ``purpose`` on
    ``on_date`` under ``ruleset`` (parsed, or a payload to parse).

    ``project`` gives the facts conditions may need (capacity, crediting period, registrations
    elsewhere); ``usage`` the covered entity's verified emissions and offsets used, needed when the
    purpose has limits. ``catalogue`` defaults to the shipped one.
    """
    facts = block if isinstance(block, BlockFacts) else BlockFacts.from_record(block)
    rules = ruleset if isinstance(ruleset, Ruleset) else Ruleset.from_payload(ruleset)
    known = catalogue if catalogue is not None else load_catalogue()
    origin, ref = facts.origin_registry, facts.methodology
    checks = [_in_force_check(rules, on_date), _origin_check(facts, known)]
    equivalence = rules.equivalence_for(origin, ref.catalogue_id, ref.local_code, destination)
    target: MethodologyRef | None = None
    outcomes: tuple[ConditionOutcome, ...] = ()
    converted: int | None = None
    remainder: Rational | None = None
    if equivalence is None:
        checks.append(
            CheckOutcome(
                "5001",
                False,
                f"no equivalence in {rules.ruleset_id} v{rules.version} from {origin}"
                f" {ref.catalogue_id} ({ref.local_code}) to {destination}",
            )
        )
    else:
        checks.append(CheckOutcome("5001", True, f"{equivalence.label}, factor {equivalence.factor}"))
        try:
            target = known.reference(equivalence.destination_catalogue_id, destination)
        except CatalogueError as exc:
            checks.append(CheckOutcome("5010", False, exc.message))
        outcomes = tuple(item.check(facts, project) for item in equivalence.conditions)
        failed = [f"{item.condition} ({item.reason})" for item in outcomes if not item.passed]
        detail = f"failed: {'; '.join(failed)}" if failed else f"all {len(outcomes)} met"
        checks.append(CheckOutcome("5003", not failed, detail))
        converted, remainder = floor_convert(facts.quantity, equivalence.factor)
    accepted = purpose_check(rules, equivalence, origin, destination, purpose)
    checks.append(accepted)
    rule = rules.purpose_rule(destination, purpose)
    if accepted.passed and converted is not None and rule is not None and rule.has_limits:
        checks.append(limit_check(rule, origin, converted, usage))
    return Decision(
        ruleset=rules.ref,
        demonstration=rules.demonstration,
        block_id=facts.block_id,
        origin=origin,
        destination=destination,
        purpose=purpose,
        on_date=on_date,
        origin_methodology=ref,
        destination_methodology=target,
        equivalence=equivalence,
        quantity=facts.quantity,
        unit=facts.unit,
        converted_quantity=converted,
        remainder=remainder,
        conditions=outcomes,
        purpose_accepted=accepted.passed,
        checks=tuple(checks),
    )
