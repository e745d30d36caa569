"""The one suite every registered adapter must pass (entry-point group ``puhui.adapters``).

Adding a region = adding an adapter and its fixtures; this suite then runs against it unchanged.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from adapters.contract import CREDIT_BLOCK, RECORD_KINDS, RegionAdapter
from schemas.codes import CHECK_CODES
from schemas.validation import validate
from standards.catalogue import load_catalogue
from tests.adapters.support import (
    ADAPTERS,
    BROKEN,
    GOOD,
    PSEUDONYMIZER,
    dumped,
    parse,
    raw_identifiers,
    walk,
)

FEDERATION = Path(__file__).resolve().parents[2] / "hub" / "demo" / "federation.json"
AMOUNTS = {"quantity", "serial_start", "serial_end", "points", "value", "vintage", "year"}


def ids(items: list[tuple[str, object]]) -> list[str]:
    return [f"{code}:{getattr(fixture, 'name', '')}" for code, fixture in items]


def test_the_five_reference_adapters_are_registered() -> None:
    assert {"SH", "JS", "ZJ", "AH", "CCER"} <= set(ADAPTERS)


@pytest.mark.parametrize("code", sorted(ADAPTERS))
def test_adapter_honours_the_contract(code: str) -> None:
    adapter = ADAPTERS[code]
    assert isinstance(adapter, RegionAdapter)
    assert adapter.code == code and adapter.name and adapter.name_zh and adapter.format
    assert adapter.media_types and all("/" in media for media in adapter.media_types)
    assert adapter.record_kinds and set(adapter.record_kinds) <= set(RECORD_KINDS)
    catalogue = load_catalogue()
    assert adapter.local_methodologies
    for local_code, catalogue_id in adapter.local_methodologies.items():
        assert catalogue.resolve(code, local_code) == catalogue_id


@pytest.mark.parametrize("code", sorted(ADAPTERS))
def test_units_agree_with_the_demo_federation(code: str) -> None:
    platforms = {p["code"]: p for p in json.loads(FEDERATION.read_text("utf-8"))["platforms"]}
    if code in platforms:
        assert ADAPTERS[code].units.grams_per_point == platforms[code]["grams_per_point"]


@pytest.mark.parametrize("code", sorted(ADAPTERS))
def test_every_adapter_ships_good_and_broken_fixtures_of_every_kind(code: str) -> None:
    fixtures = ADAPTERS[code].fixtures()
    assert any(f.good for f in fixtures)
    broken = " ".join(f.name for f in fixtures if not f.good)
    wanted = [
        "wrong-encoding",
        "missing-fields",
        "negative",
        "fractional",
        "bad-dates",
        "unknown-methodology",
    ]
    wanted.append("duplicated-rows")
    if CREDIT_BLOCK in ADAPTERS[code].record_kinds:
        wanted.append("overlapping-serials")
    assert [kind for kind in wanted if kind not in broken] == []


@pytest.mark.parametrize(("code", "fixture"), GOOD, ids=ids(GOOD))
def test_good_fixture_parses_into_valid_exchange_records(code, fixture) -> None:
    result = parse(code, fixture)
    assert result.errors == ()
    assert len(result) > 0
    for kind, record in result.records():
        assert kind in ADAPTERS[code].record_kinds
        assert validate(kind, record) == []
        assert record.get("demonstration") is True, "fixture data is marked as demonstration"


@pytest.mark.parametrize(("code", "fixture"), GOOD, ids=ids(GOOD))
def test_parse_render_parse_gives_the_same_records(code, fixture) -> None:
    adapter = ADAPTERS[code]
    result = parse(code, fixture)
    for kind, record in result.records():
        again = adapter.parse(
            adapter.render(record), content_type=adapter.media_types[0], pseudonymizer=PSEUDONYMIZER
        )
        assert again.errors == ()
        assert list(again.records()) == [(kind, record)]
    for kind in adapter.record_kinds:
        group = [record for k, record in result.records() if k == kind]
        if group:
            again = adapter.parse(adapter.render_many(group), pseudonymizer=PSEUDONYMIZER)
            assert [record for k, record in again.records() if k == kind] == group


@pytest.mark.parametrize(("code", "fixture"), GOOD, ids=ids(GOOD))
def test_amounts_are_integers_and_nothing_is_a_float(code, fixture) -> None:
    for _, record in parse(code, fixture).records():
        for path, value in walk(record):
            assert not isinstance(value, float | Decimal), path
            if path.rsplit("/", 1)[-1] in AMOUNTS and not path.endswith("emission_factor/value"):
                assert type(value) is int, path


@pytest.mark.parametrize(("code", "fixture"), GOOD + BROKEN, ids=ids(GOOD + BROKEN))
def test_no_raw_identifier_leaves_the_adapter(code, fixture) -> None:
    result = parse(code, fixture)
    out = dumped(result) + json.dumps([e.as_dict() for e in result.errors], ensure_ascii=False)
    leaked = sorted(identifier for identifier in raw_identifiers(fixture) if identifier in out)
    assert leaked == []
    for path, value in walk([record for _, record in result.records()]):
        if path.endswith(("/subject", "/owner_uscc_hash", "/address_hash")):
            assert isinstance(value, str) and len(value) == 64 and value == value.lower()


@pytest.mark.parametrize(("code", "fixture"), BROKEN, ids=ids(BROKEN))
def test_broken_fixture_is_refused_whole_naming_local_fields(code, fixture) -> None:
    result = parse(code, fixture)
    assert not result.ok
    assert len(result) == 0 and list(result.records()) == []
    for error in result.errors:
        assert error.code in CHECK_CODES
        assert error.record and error.field and error.reason
    assert fixture.expected_codes and fixture.expected_fields, "every broken fixture says what it breaks"
    assert set(fixture.expected_codes) <= {e.code for e in result.errors}
    assert set(fixture.expected_fields) <= {e.field for e in result.errors}
