"""Purpose acceptance and purpose limits (the 5004, 5005 and 5009 checks).

A destination accepts a purpose only through an explicit purpose rule naming the origin, and only
when the equivalence applied lists that purpose (closed by default). Limits follow the ETS pattern
of FACTS.md (Guangdong 2016: offsets < 10 % of emissions, ≥ 70 % from inside the province):

- ``max_share_of_verified_emissions`` = N: offsets used by the covered entity in the compliance
  year, this use included, ≤ N × its verified emissions;
- ``max_outside_region_share`` = M: when the origin registry is not the destination's, offsets from
  outside the region, this use included, ≤ M × (N × verified emissions) — M of the offset allowance;
  without N, ≤ M × all offsets used this year, this use included.

All comparisons are exact (fractions of integers).
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from standards.facts import PurposeUsage
from standards.rational import format_amount, format_share
from standards.rulesets import Equivalence, PurposeRule, Ruleset


@dataclass(frozen=True, slots=True)
class CheckOutcome:
    """One automated check of an evaluation: its code, whether it passed, and why."""

    code: str
    passed: bool
    detail: str

    def as_dict(self) -> dict[str, Any]:
        """The exchange's ``checkResult`` form."""
        return {"code": self.code, "passed": self.passed, "detail": self.detail}


def purpose_check(
    ruleset: Ruleset,
    equivalence: Equivalence | None,
    origin: str,
    destination: str,
    purpose: str,
) -> CheckOutcome:
    """5004: whether ``destination`` accepts credits of ``origin`` for ``purpose``."""
    rule = ruleset.purpose_rule(destination, purpose)
    if rule is None:
        return CheckOutcome("5004", False, f"{destination} has no purpose rule for {purpose}")
    if origin not in rule.accepted_origins:
        accepted = ", ".join(rule.accepted_origins)
        return CheckOutcome("5004", False, f"{destination} accepts {purpose} credits from {accepted} only")
    if equivalence is not None and purpose not in equivalence.purposes:
        allowed = ", ".join(equivalence.purposes)
        return CheckOutcome("5004", False, f"equivalence {equivalence.label} allows {allowed} only")
    return CheckOutcome("5004", True, f"{destination} accepts {origin} credits for {purpose}")


def limit_check(rule: PurposeRule, origin: str, amount: int, usage: PurposeUsage | None) -> CheckOutcome:
    """5005 (or 5009 when ``usage`` is missing): whether using ``amount`` more destination units
    keeps the covered entity within the purpose's limits."""
    if usage is None:
        return CheckOutcome(
            "5009",
            False,
            f"{rule.purpose} at {rule.destination} has limits: give the covered entity's verified"
            " emissions and offsets used this year",
        )
    parts: list[str] = []
    passed = True
    total_after = usage.used_total + amount
    allowance: Fraction | None = None
    if rule.max_share_of_verified_emissions is not None:
        allowance = rule.max_share_of_verified_emissions.fraction * usage.verified_emissions
        ok = total_after <= allowance
        passed = passed and ok
        parts.append(
            f"offsets {usage.used_total} + {amount} = {total_after} {'≤' if ok else '>'}"
            f" {format_share(rule.max_share_of_verified_emissions)} of"
            f" {usage.verified_emissions} = {format_amount(allowance)}"
        )
    if rule.max_outside_region_share is not None and origin != rule.destination:
        share = rule.max_outside_region_share
        base, base_text = (
            (allowance, "the allowance") if allowance is not None else (Fraction(total_after), "offsets")
        )
        outside_cap = share.fraction * base
        outside_after = usage.used_outside_region + amount
        ok = outside_after <= outside_cap
        passed = passed and ok
        parts.append(
            f"outside {rule.destination} {usage.used_outside_region} + {amount} = {outside_after}"
            f" {'≤' if ok else '>'} {format_share(share)} of {base_text}"
            f" {format_amount(base)} = {format_amount(outside_cap)}"
        )
    if not parts:
        parts.append(f"{origin} is inside {rule.destination}: no outside-region limit applies")
    return CheckOutcome("5005", passed, "; ".join(parts))
