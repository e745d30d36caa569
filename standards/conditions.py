"""Eligibility conditions: the ruleset's small declarative vocabulary, parsed and checked.

Each condition is one JSON object with exactly one known key (``vintage_range``, ``capacity_max``,
``requires_co_benefit``, ``crediting_period_within``, ``not_registered_in``). A condition whose
fact is unknown fails (closed by default) and says which fact was missing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from standards.facts import BlockFacts, Capacity, DateRange, ProjectFacts


@dataclass(frozen=True, slots=True)
class ConditionOutcome:
    """One condition's result, with the reason a person can read."""

    condition: str
    passed: bool
    reason: str

    def as_dict(self) -> dict[str, Any]:
        """The recognition-decision form ``{"condition", "passed", "reason"}``."""
        return {"condition": self.condition, "passed": self.passed, "reason": self.reason}


@dataclass(frozen=True, slots=True)
class VintageRange:
    """The block's vintage year lies in [min, max]."""

    name: ClassVar[str] = "vintage_range"
    min: int
    max: int

    def describe(self) -> str:
        """``vintage_range 2022–2030``."""
        return f"{self.name} {self.min}–{self.max}"

    def check(self, block: BlockFacts, project: ProjectFacts | None) -> ConditionOutcome:
        """Compare the block's vintage with the range."""
        inside = self.min <= block.vintage <= self.max
        word = "within" if inside else "outside"
        return ConditionOutcome(self.name, inside, f"vintage {block.vintage} {word} {self.min}–{self.max}")

    def as_dict(self) -> dict[str, Any]:
        """The ruleset form."""
        return {self.name: {"min": self.min, "max": self.max}}


@dataclass(frozen=True, slots=True)
class CapacityMax:
    """The project's capacity is at most the given value."""

    name: ClassVar[str] = "capacity_max"
    limit: Capacity

    def describe(self) -> str:
        """``capacity_max 1 MW``."""
        return f"{self.name} {self.limit}"

    def check(self, block: BlockFacts, project: ProjectFacts | None) -> ConditionOutcome:
        """Compare the project's capacity with the limit (W/kW/MW convert; ha only with ha)."""
        capacity = project.capacity if project is not None else None
        if capacity is None:
            return ConditionOutcome(self.name, False, "project capacity not given")
        order = capacity.compare(self.limit)
        if order is None:
            return ConditionOutcome(self.name, False, f"{capacity} cannot be compared with {self.limit}")
        sign = "≤" if order <= 0 else ">"
        return ConditionOutcome(self.name, order <= 0, f"{capacity} {sign} {self.limit}")

    def as_dict(self) -> dict[str, Any]:
        """The ruleset form."""
        return {self.name: self.limit.as_dict()}


@dataclass(frozen=True, slots=True)
class RequiresCoBenefit:
    """The block carries the co-benefit tag."""

    name: ClassVar[str] = "requires_co_benefit"
    tag: str

    def describe(self) -> str:
        """``requires_co_benefit biodiversity``."""
        return f"{self.name} {self.tag}"

    def check(self, block: BlockFacts, project: ProjectFacts | None) -> ConditionOutcome:
        """Look for the tag among the block's co-benefits."""
        if self.tag in block.co_benefits:
            return ConditionOutcome(self.name, True, f"co-benefit {self.tag} present")
        has = ", ".join(sorted(block.co_benefits)) or "none"
        return ConditionOutcome(self.name, False, f"co-benefit {self.tag} missing (has: {has})")

    def as_dict(self) -> dict[str, Any]:
        """The ruleset form."""
        return {self.name: self.tag}


@dataclass(frozen=True, slots=True)
class CreditingPeriodWithin:
    """The project's crediting period (else the block's monitoring period) lies in the range."""

    name: ClassVar[str] = "crediting_period_within"
    period: DateRange

    def describe(self) -> str:
        """``crediting_period_within 2020-09-22–2040-12-31``."""
        return f"{self.name} {self.period}"

    def check(self, block: BlockFacts, project: ProjectFacts | None) -> ConditionOutcome:
        """Compare the crediting period (or, when not given, the monitoring period)."""
        period, what = (project.crediting_period if project else None), "crediting period"
        if period is None:
            period, what = block.monitoring_period, "monitoring period"
        if period is None:
            return ConditionOutcome(self.name, False, "neither crediting nor monitoring period given")
        inside = period.within(self.period)
        word = "within" if inside else "not within"
        return ConditionOutcome(self.name, inside, f"{what} {period} {word} {self.period}")

    def as_dict(self) -> dict[str, Any]:
        """The ruleset form."""
        return {self.name: self.period.as_dict()}


@dataclass(frozen=True, slots=True)
class NotRegisteredIn:
    """The project is not registered in any of these schemes (沪环规〔2025〕10号 art. 3)."""

    name: ClassVar[str] = "not_registered_in"
    schemes: tuple[str, ...]

    def describe(self) -> str:
        """``not_registered_in CCER``."""
        return f"{self.name} {', '.join(self.schemes)}"

    def check(self, block: BlockFacts, project: ProjectFacts | None) -> ConditionOutcome:
        """Intersect the project's declared registrations with the excluded schemes."""
        known = project.registered_elsewhere if project is not None else None
        listed = ", ".join(self.schemes)
        if known is None:
            return ConditionOutcome(self.name, False, "registrations elsewhere not given")
        found = sorted(known.intersection(self.schemes))
        if found:
            return ConditionOutcome(self.name, False, f"registered in {', '.join(found)}")
        return ConditionOutcome(self.name, True, f"not registered in {listed}")

    def as_dict(self) -> dict[str, Any]:
        """The ruleset form."""
        return {self.name: list(self.schemes)}


Condition = VintageRange | CapacityMax | RequiresCoBenefit | CreditingPeriodWithin | NotRegisteredIn


def parse_condition(value: Mapping[str, Any]) -> Condition:
    """A condition from its ruleset form (already schema-valid: exactly one known key)."""
    (name, body), *_ = value.items()
    if name == VintageRange.name:
        return VintageRange(body["min"], body["max"])
    if name == CapacityMax.name:
        return CapacityMax(Capacity.from_dict(body))
    if name == RequiresCoBenefit.name:
        return RequiresCoBenefit(body)
    if name == CreditingPeriodWithin.name:
        return CreditingPeriodWithin(DateRange.from_dict(body))
    if name == NotRegisteredIn.name:
        return NotRegisteredIn(tuple(body))
    raise ValueError(f"unknown condition {name!r}")
