"""Exact rationals as the exchange writes them: ``{"numerator": n, "denominator": d}``.

Quantities never pass through floats: conversions multiply integers and floor, the remainder is
kept as a reduced fraction.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Any


@dataclass(frozen=True, slots=True, order=True)
class Rational:
    """A non-negative rational as stated (not reduced unless asked): ``numerator/denominator``."""

    numerator: int
    denominator: int

    def __post_init__(self) -> None:
        if type(self.numerator) is not int or type(self.denominator) is not int:
            raise TypeError("a rational is made of two integers")
        if self.numerator < 0 or self.denominator < 1:
            raise ValueError("a rational needs numerator >= 0 and denominator >= 1")

    @classmethod
    def from_dict(cls, value: Mapping[str, Any]) -> Rational:
        """From the exchange form ``{"numerator": n, "denominator": d}``."""
        return cls(value["numerator"], value["denominator"])

    @classmethod
    def of(cls, value: Fraction | int) -> Rational:
        """A reduced rational equal to ``value``."""
        fraction = Fraction(value)
        return cls(fraction.numerator, fraction.denominator)

    @property
    def fraction(self) -> Fraction:
        """The exact value."""
        return Fraction(self.numerator, self.denominator)

    def reduced(self) -> Rational:
        """The same value in lowest terms."""
        return Rational.of(self.fraction)

    def as_dict(self) -> dict[str, int]:
        """The exchange form."""
        return {"numerator": self.numerator, "denominator": self.denominator}

    def __str__(self) -> str:
        return f"{self.numerator}/{self.denominator}"


def floor_convert(quantity: int, factor: Rational) -> tuple[int, Rational]:
    """``floor(quantity × factor)`` and the exact reduced remainder lost to the floor."""
    if type(quantity) is not int or quantity < 0:
        raise ValueError("a quantity is a non-negative integer")
    scaled = quantity * factor.numerator
    converted, rest = divmod(scaled, factor.denominator)
    return converted, Rational.of(Fraction(rest, factor.denominator))


def format_amount(value: Fraction | int) -> str:
    """An exact amount for people: ``245`` or ``1225/2`` (never a rounded decimal)."""
    fraction = Fraction(value)
    if fraction.denominator == 1:
        return str(fraction.numerator)
    return f"{fraction.numerator}/{fraction.denominator}"


def format_share(value: Rational) -> str:
    """A share for people: ``5/100 (5 %)``; the percentage only when it is a whole number."""
    percent = value.fraction * 100
    if percent.denominator == 1:
        return f"{value} ({percent.numerator} %)"
    return str(value)
