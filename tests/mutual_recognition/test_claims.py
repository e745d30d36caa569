"""The succession of serial claims, case by case: what holds the serials, what comes, and whether
it may follow (and with which code it is refused)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import pytest

from mutual_recognition.claims import SUCCESSION, ClaimKind, Holder, may_follow

K = ClaimKind


@dataclass(frozen=True)
class Case:
    held: ClaimKind | None
    new: ClaimKind
    allowed: bool
    code: str | None = None
    certificate: str | None = None
    consumes: str | None = None


CASES = [
    *[Case(held=None, new=new, allowed=True) for new in K],
    *[Case(held=K.RECOGNITION, new=new, allowed=False, code="3026") for new in K],
    *[Case(held=K.TRANSFER, new=new, allowed=False, code="3024") for new in K],
    *[Case(held=K.PLEDGE, new=new, allowed=False, code="3023") for new in K],
    *[Case(held=K.RETIREMENT, new=new, allowed=False, code="3021") for new in K],
    *[Case(held=K.CERTIFICATE, new=new, allowed=False, code="3029") for new in K],
    Case(held=K.CERTIFICATE, new=K.TRANSFER, allowed=True, certificate="RC-1", consumes="RC-1"),
    Case(held=K.CERTIFICATE, new=K.RETIREMENT, allowed=True, certificate="RC-1", consumes="RC-1"),
    Case(held=K.CERTIFICATE, new=K.RETIREMENT, allowed=False, code="3029", certificate="RC-2"),
    Case(held=K.CERTIFICATE, new=K.PLEDGE, allowed=False, code="3029", certificate="RC-1"),
    Case(held=K.CERTIFICATE, new=K.RECOGNITION, allowed=False, code="3029", certificate="RC-1"),
    Case(held=K.RECOGNITION, new=K.RETIREMENT, allowed=False, code="3026", certificate="RC-1"),
    Case(held=None, new=K.RETIREMENT, allowed=False, code="5014", certificate="RC-1"),
    Case(held=None, new=K.TRANSFER, allowed=False, code="5014", certificate="RC-1"),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.held}->{c.new}:{c.certificate}")
def test_who_may_follow_whom(case: Case) -> None:
    held = Holder(case.held, "RC-1" if case.held is K.CERTIFICATE else "op-1") if case.held else None
    verdict = may_follow(held, case.new, certificate=case.certificate)
    assert (verdict.allowed, verdict.code, verdict.consumes) == (case.allowed, case.code, case.consumes)
    assert verdict.allowed or verdict.detail


def test_the_table_covers_every_pair_once() -> None:
    pairs = {(held, new) for held, new in itertools.product([None, *K], K)}
    assert set(SUCCESSION) == pairs
