"""The facts an evaluation looks at: the credit block, the project behind it, the use so far.

All amounts are integers (tonnes for credits, grams for personal reductions); capacities are whole
numbers with a unit. ``None`` means "not known", and a condition that needs an unknown fact fails.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from schemas.validation import Issue
from standards.catalogue import MethodologyRef
from standards.errors import EvaluationInputError

WATTS = {"W": 1, "kW": 1_000, "MW": 1_000_000}


@dataclass(frozen=True, slots=True)
class DateRange:
    """An inclusive range of calendar dates."""

    start: date
    end: date

    @classmethod
    def from_dict(cls, value: Mapping[str, Any]) -> DateRange:
        """From the exchange's ``{"start": "YYYY-MM-DD", "end": "YYYY-MM-DD"}``."""
        return cls(date.fromisoformat(value["start"]), date.fromisoformat(value["end"]))

    def within(self, other: DateRange) -> bool:
        """Whether this range lies entirely inside ``other``."""
        return other.start <= self.start and self.end <= other.end

    def as_dict(self) -> dict[str, str]:
        """The exchange form."""
        return {"start": self.start.isoformat(), "end": self.end.isoformat()}

    def __str__(self) -> str:
        return f"{self.start.isoformat()}–{self.end.isoformat()}"


@dataclass(frozen=True, slots=True)
class Capacity:
    """Installed capacity (W, kW, MW) or area (ha) as a whole number."""

    value: int
    unit: str

    @classmethod
    def from_dict(cls, value: Mapping[str, Any]) -> Capacity:
        """From the exchange's ``{"value": 399, "unit": "kW"}``."""
        return cls(int(value["value"]), str(value["unit"]))

    def compare(self, other: Capacity) -> int | None:
        """-1, 0 or 1 as this capacity is below, equal to or above ``other``; None when one is a
        power and the other an area."""
        if self.unit in WATTS and other.unit in WATTS:
            mine, theirs = self.value * WATTS[self.unit], other.value * WATTS[other.unit]
        elif self.unit == other.unit:
            mine, theirs = self.value, other.value
        else:
            return None
        return (mine > theirs) - (mine < theirs)

    def as_dict(self) -> dict[str, Any]:
        """The exchange form."""
        return {"value": self.value, "unit": self.unit}

    def __str__(self) -> str:
        return f"{self.value} {self.unit}"


@dataclass(frozen=True, slots=True)
class ProjectFacts:
    """What is known of the project behind a block; None = not known."""

    capacity: Capacity | None = None
    crediting_period: DateRange | None = None
    registered_elsewhere: frozenset[str] | None = None

    @classmethod
    def from_project(cls, project: Mapping[str, Any]) -> ProjectFacts:
        """From a ``project`` exchange record (schemes it declares, capacity, crediting period)."""
        capacity = project.get("capacity")
        period = project.get("crediting_period")
        elsewhere = project.get("registered_elsewhere")
        return cls(
            capacity=Capacity.from_dict(capacity) if capacity is not None else None,
            crediting_period=DateRange.from_dict(period) if period is not None else None,
            registered_elsewhere=(
                frozenset(entry["scheme"] for entry in elsewhere) if elsewhere is not None else None
            ),
        )


@dataclass(frozen=True, slots=True)
class PurposeUsage:
    """A covered entity's compliance year: verified emissions and offsets already used (tonnes)."""

    verified_emissions: int
    used_total: int = 0
    used_outside_region: int = 0

    def __post_init__(self) -> None:
        values = (self.verified_emissions, self.used_total, self.used_outside_region)
        if any(type(value) is not int or value < 0 for value in values):
            raise EvaluationInputError("1004", "usage amounts are non-negative integers")
        if self.used_outside_region > self.used_total:
            raise EvaluationInputError("1004", "offsets used from outside the region exceed the offsets used")


@dataclass(frozen=True, slots=True)
class BlockFacts:
    """The members of a ``credit-block`` record that rules look at."""

    block_id: str
    origin_registry: str
    quantity: int
    unit: str
    vintage: int
    methodology: MethodologyRef
    co_benefits: frozenset[str] = frozenset()
    monitoring_period: DateRange | None = None

    @classmethod
    def from_record(cls, block: Mapping[str, Any]) -> BlockFacts:
        """From a credit-block record; :class:`EvaluationInputError` (1002) names bad members."""
        issues: list[Issue] = []

        def _need(name: str, kind: type) -> Any:
            value = block.get(name)
            if not isinstance(value, kind) or isinstance(value, bool):
                issues.append(Issue(f"/{name}", "1002", f"'{name}' must be a {kind.__name__}"))
            return value

        block_id, origin = _need("block_id", str), _need("origin_registry", str)
        quantity, unit, vintage = _need("quantity", int), _need("unit", str), _need("vintage", int)
        methodology = _need("methodology", Mapping)
        if isinstance(quantity, int) and quantity < 1:
            issues.append(Issue("/quantity", "1002", "'quantity' must be at least 1"))
        ref: MethodologyRef | None = None
        if isinstance(methodology, Mapping):
            try:
                ref = MethodologyRef.from_dict(methodology)
            except KeyError as exc:
                issues.append(Issue(f"/methodology/{exc.args[0]}", "1002", "required"))
        try:
            period = block.get("monitoring_period")
            monitoring = DateRange.from_dict(period) if period is not None else None
        except (KeyError, TypeError, ValueError):
            issues.append(Issue("/monitoring_period", "1002", "not a date range"))
        if issues or ref is None:
            raise EvaluationInputError("1002", "the credit block is not usable", issues)
        return cls(
            block_id=block_id,
            origin_registry=origin,
            quantity=quantity,
            unit=unit,
            vintage=vintage,
            methodology=ref,
            co_benefits=frozenset(block.get("co_benefits") or ()),
            monitoring_period=monitoring,
        )
