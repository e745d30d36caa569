"""The methodology catalogue: shipped data, lookups both ways, filters, refusals."""

from __future__ import annotations

import pytest

from schemas.validation import validate
from standards.catalogue import Catalogue, MethodologyRef, load_catalogue, read_data
from standards.errors import CatalogueError
from tests.standards.support import example


def test_every_shipped_entry_validates_against_the_methodology_schema() -> None:
    records = read_data("methodologies.json")["methodologies"]
    assert [validate("methodology", record) for record in records] == [[] for _ in records]
    assert load_catalogue().as_records() == sorted(records, key=lambda r: r["catalogue_id"])


def test_the_catalogue_has_the_ids_of_the_issue() -> None:
    wanted = {
        "PV-DISTRIBUTED", "EV-CHARGING", "TRANSIT-METRO", "TRANSIT-BUS", "TRANSIT-BIKE",
        "AFFORESTATION", "BUILDING-RETROFIT", "SOLAR-THERMAL", "WIND-OFFSHORE", "MANGROVE",
    }  # fmt: skip
    assert wanted <= {entry.catalogue_id for entry in load_catalogue().entries()}


@pytest.mark.parametrize(
    ("registry", "code", "catalogue_id", "version", "verified"),
    [
        ("CCER", "CCER-14-001-V01", "AFFORESTATION", "V01", True),
        ("CCER", "CCER-14-002-V01", "MANGROVE", "V01", True),
        ("CCER", "CCER-01-001-V01", "SOLAR-THERMAL", "V01", True),
        ("CCER", "CCER-01-002-V01", "WIND-OFFSHORE", "V01", True),
        ("CCER", "CCER-06-001-V01", "BUILDING-RETROFIT", "V01", False),
        ("SH", "SHCER02020012024II", "TRANSIT-BUS", "2024II", False),
        ("SH", "SHCER02020022024II", "TRANSIT-METRO", "2024II", False),
        ("SH", "SHCER02020032024II", "TRANSIT-BIKE", "2024II", False),
        ("SH", "SHCER02020042024II", "EV-CHARGING", "2024II", False),
        ("SH", "SH-PV-DIST", "PV-DISTRIBUTED", "2024", False),
        ("JS", "JS-PV-DIST", "PV-DISTRIBUTED", "1", False),
        ("AH", "CCER-14-001-V01", "AFFORESTATION", "V01", False),
    ],
)
def test_lookups_both_ways(registry, code, catalogue_id, version, verified) -> None:
    catalogue = load_catalogue()
    assert catalogue.resolve(registry, code) == catalogue_id
    local = {c.code: c for c in catalogue.local_codes(catalogue_id, registry)}
    assert (local[code].version, local[code].verified) == (version, verified)
    assert catalogue.reference(catalogue_id, registry) == MethodologyRef(catalogue_id, code, version)


def test_unverified_and_demonstration_codes_say_so_in_their_source() -> None:
    for entry in load_catalogue().entries():
        for code in entry.local_codes:
            if code.registry in ("JS", "ZJ", "AH") or code.code.startswith("SH-"):
                assert not code.verified and "demonstration" in code.source, code
            if code.code.startswith("SHCER"):
                assert not code.verified and "unverified" in code.source, code


def test_shanghai_pv_records_the_local_factor() -> None:
    entry = load_catalogue().get("PV-DISTRIBUTED")
    assert any("0.42" in source and "≤ 1 MW" in source for source in entry.sources)
    assert any("沪环气候〔2023〕89号" in source for source in entry.sources)


@pytest.mark.parametrize(
    ("registry", "expected"),
    [
        ("CCER", ["AFFORESTATION", "BUILDING-RETROFIT", "MANGROVE", "SOLAR-THERMAL", "WIND-OFFSHORE"]),
        ("ZJ", ["AFFORESTATION", "EV-CHARGING", "PV-DISTRIBUTED", "TRANSIT-BUS", "TRANSIT-METRO"]),
        ("GD", ["PV-DISTRIBUTED"]),  # the peered Guangdong hub's demonstration code
        ("CD", []),
    ],
)
def test_filter_by_registry(registry, expected) -> None:
    assert [entry.catalogue_id for entry in load_catalogue().entries(registry)] == expected
    assert [r["catalogue_id"] for r in load_catalogue().as_records(registry)] == expected


@pytest.mark.parametrize(
    ("call", "args"),
    [
        ("resolve", ("SH", "NO-SUCH-CODE")),
        ("resolve", ("GD", "CCER-14-001-V01")),
        ("get", ("NO-SUCH-ID",)),
        ("reference", ("MANGROVE", "SH")),
    ],
)
def test_failed_lookups_raise_5010(call, args) -> None:
    with pytest.raises(CatalogueError) as raised:
        getattr(load_catalogue(), call)(*args)
    assert raised.value.code == "5010"
    assert load_catalogue().find("SH", "NO-SUCH-CODE") is None


def test_an_invalid_record_is_refused_with_its_pointer() -> None:
    record = example("methodology", "afforestation-ccer")
    record["unit"] = "kgCO2e"
    with pytest.raises(CatalogueError) as raised:
        Catalogue.from_records([example("methodology", "transit-metro-unverified-code"), record])
    assert raised.value.code == "1002"
    assert [issue.pointer for issue in raised.value.issues] == ["/1/unit"]


def test_one_local_code_cannot_mean_two_methodologies() -> None:
    forest = example("methodology", "afforestation-ccer")
    copy = {**forest, "catalogue_id": "MANGROVE"}
    with pytest.raises(CatalogueError, match="maps to both"):
        Catalogue.from_records([forest, copy])
    with pytest.raises(CatalogueError, match="appears twice"):
        Catalogue.from_records([forest, forest])
