"""The renamed members: moved to their current place, announced, and refused when the old and the
new place disagree — without touching the body given."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mutual_recognition.vocabulary import RENAMES, current_form

ENTITY = "a" * 64


@dataclass(frozen=True)
class Row:
    name: str
    body: dict[str, Any]
    current: dict[str, Any] | None = None  # None: refused
    deprecated: int = 0
    pointers: list[str] = field(default_factory=list)


def ets(**old: Any) -> dict[str, Any]:
    """An ETS-compliance purpose, with deprecated members ``old``."""
    return {"kind": "ets-compliance", **old}


def compliance(**members: Any) -> dict[str, Any]:
    return {"covered_entity_hash": ENTITY, "year": 2025, **members}


CURRENT = {"purpose": ets(), "compliance": compliance()}
ROWS = [
    Row(name="current-form", body=CURRENT, current=CURRENT),
    Row(name="deprecated-form", body={"purpose": ets(covered_entity_hash=ENTITY, compliance_year=2025)},
        current=CURRENT, deprecated=2),
    Row(name="both-agree", body={"purpose": ets(compliance_year=2025), "compliance": compliance()},
        current=CURRENT, deprecated=1),
    Row(name="half-and-half",
        body={"purpose": ets(compliance_year=2025), "compliance": {"covered_entity_hash": ENTITY}},
        current=CURRENT, deprecated=1),
    Row(name="years-disagree", body={"purpose": ets(compliance_year=2024), "compliance": compliance()},
        deprecated=1, pointers=["/purpose/compliance_year"]),
    Row(name="both-disagree",
        body={"purpose": ets(covered_entity_hash="b" * 64, compliance_year=2024), "compliance": compliance()},
        deprecated=2, pointers=["/purpose/covered_entity_hash", "/purpose/compliance_year"]),
    Row(name="no-compliance-at-all", body={"purpose": {"kind": "voluntary-neutralization", "event": "x"}},
        current={"purpose": {"kind": "voluntary-neutralization", "event": "x"}}),
    Row(name="purpose-not-an-object", body={"purpose": "ets-compliance"},
        current={"purpose": "ets-compliance"}),
]  # fmt: skip


@pytest.mark.parametrize("row", ROWS, ids=lambda row: row.name)
def test_current_form(row: Row) -> None:
    given_body = copy.deepcopy(row.body)
    form = current_form("retirement", given_body)
    assert given_body == row.body  # the body given is never changed
    assert len(form.deprecated) == row.deprecated
    assert [issue.pointer for issue in form.issues] == row.pointers
    assert {issue.code for issue in form.issues} <= {"1002"}
    if row.current is not None:
        assert form.body == row.current
        assert current_form("retirement", form.body).deprecated == []  # the current form is current


def test_every_rename_has_a_window() -> None:
    assert RENAMES
    for rename in RENAMES:
        assert rename.since < rename.sunset and rename.old != rename.new


def test_another_record_type_is_left_alone() -> None:
    body = {"purpose": {"kind": "ets-compliance", "compliance_year": 2025}}
    assert current_form("recognition-request", body).body == body


scalars = st.one_of(st.none(), st.integers(), st.text(max_size=5), st.booleans())
names = st.sampled_from(["purpose", "compliance", "kind", "compliance_year", "covered_entity_hash", "year"])
bodies = st.recursive(
    st.dictionaries(names, scalars),
    lambda inner: st.dictionaries(names, st.one_of(scalars, inner)),
    max_leaves=8,
)


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])  # a shared, loaded machine
@given(bodies)
def test_any_body_is_moved_or_refused_never_lost(body: dict[str, Any]) -> None:
    """Whatever is sent (malformed included): the old members end in their new place or the body
    is refused naming them; nothing else changes; the input is untouched."""
    before = copy.deepcopy(body)
    form = current_form("retirement", body)
    assert body == before
    if form.issues:
        return
    for rename in form.deprecated:
        node: Any = form.body
        for part in rename.new:
            node = node[part]
        old: Any = before
        for part in rename.old:
            old = old[part]
        assert node == old
        parent: Any = form.body
        for part in rename.old[:-1]:
            parent = parent[part]
        assert rename.old[-1] not in parent
