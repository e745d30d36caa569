"""Evaluation of credit blocks under the default YRD ruleset, as a table of rows, and the
determinism of decision records."""

from __future__ import annotations

import hashlib
from datetime import date
from fractions import Fraction

import pytest

from schemas.canonical import is_canonical
from schemas.validation import validate
from standards.defaults import default_ruleset, default_ruleset_payload
from standards.errors import EvaluationInputError
from standards.evaluation import evaluate
from standards.facts import Capacity, DateRange, ProjectFacts, PurposeUsage
from tests.standards.support import example

KUNSHAN = ProjectFacts(capacity=Capacity(399, "kW"), registered_elsewhere=frozenset())
FOREST = ProjectFacts(
    crediting_period=DateRange(date(2021, 1, 1), date(2050, 12, 31)),
    registered_elsewhere=frozenset(),
)
ROOMY = PurposeUsage(verified_emissions=20_000)
LARGE = PurposeUsage(verified_emissions=50_000)
MARCH, AUGUST = date(2026, 3, 3), date(2026, 8, 1)


def pv(quantity: int = 350, **changes) -> dict:
    block = example("credit-block", "kunshan-pv-399kw")
    block["serial_end"] = block["serial_start"] + quantity - 1
    block["quantity"] = quantity
    block.update(changes)
    return block


def forest(**changes) -> dict:
    block = example("credit-block", "anhui-afforestation-pledged")
    block.update(changes)
    return block


def ev(origin: str = "JS") -> dict:
    return pv(
        100,
        origin_registry=origin,
        methodology={"catalogue_id": "EV-CHARGING", "local_code": f"{origin}-EV-CHG", "version": "1"},
    )


ETS, VN = "ets-compliance", "voluntary-neutralization"
CR, POINTS = "charitable-retirement", "points-exchange"
OVER_1MW = ProjectFacts(Capacity(1200, "kW"), None, frozenset())
IN_CCER = ProjectFacts(Capacity(1, "MW"), None, frozenset({"CCER"}))
NO_PERIOD = ProjectFacts(registered_elsewhere=frozenset())
UNKNOWN_CODE = pv(methodology={"catalogue_id": "PV-DISTRIBUTED", "local_code": "JS-PV-X", "version": "1"})
MANGROVE = pv(
    origin_registry="CCER",
    methodology={"catalogue_id": "MANGROVE", "local_code": "CCER-14-002-V01", "version": "V01"},
)
NO_TAG = forest(co_benefits=["soil-conservation"])

# fmt: off
ROWS = [
    # id, block, destination, purpose, date, project, usage, ruleset version,
    #   failed check codes, converted quantity, remainder
    ("js-pv-350-sh-ets", pv(), "SH", ETS, MARCH, KUNSHAN, ROOMY, 1, [], 245, "55/61"),
    ("js-pv-120-sh-ets", pv(120), "SH", ETS, MARCH, KUNSHAN, ROOMY, 1, [], 84, "132/427"),
    ("js-pv-1-sh", pv(1), "SH", VN, MARCH, KUNSHAN, None, 1, [], 0, "300/427"),
    ("js-pv-2989-exact", pv(2989), "SH", VN, MARCH, KUNSHAN, None, 1, [], 2100, "0/1"),
    ("js-pv-zj", pv(), "ZJ", VN, MARCH, KUNSHAN, None, 1, [], 301, "298/427"),
    ("js-pv-ah-capped", pv(), "AH", CR, MARCH, KUNSHAN, None, 1, [], 350, "0/1"),
    ("js-pv-over-1mw", pv(), "SH", VN, MARCH, OVER_1MW, None, 1, ["5003"], 245, "55/61"),
    ("js-pv-in-ccer", pv(), "SH", VN, MARCH, IN_CCER, None, 1, ["5003"], 245, "55/61"),
    ("js-pv-no-facts", pv(), "SH", VN, MARCH, None, None, 1, ["5003"], 245, "55/61"),
    ("js-pv-vintage-2019", pv(vintage=2019), "SH", VN, MARCH, KUNSHAN, None, 1, ["5003"], 245,
     "55/61"),
    ("before-in-force", pv(), "SH", ETS, date(2025, 12, 31), KUNSHAN, ROOMY, 1, ["5002"], 245,
     "55/61"),
    ("pv-for-points", pv(), "SH", POINTS, MARCH, KUNSHAN, None, 1, ["5004"], 245, "55/61"),
    ("no-ets-in-zj", pv(), "ZJ", ETS, MARCH, KUNSHAN, None, 1, ["5004"], 301, "298/427"),
    ("limit-share", pv(), "SH", ETS, MARCH, KUNSHAN, PurposeUsage(20_000, 900, 0), 1, ["5005"],
     245, "55/61"),
    ("limit-outside", pv(), "SH", ETS, MARCH, KUNSHAN, PurposeUsage(10_000), 1, ["5005"], 245,
     "55/61"),
    ("limit-inputs-missing", pv(), "SH", ETS, MARCH, KUNSHAN, None, 1, ["5009"], 245, "55/61"),
    ("unknown-local-code", UNKNOWN_CODE, "SH", VN, MARCH, KUNSHAN, None, 1, ["5010"], 245,
     "55/61"),
    ("no-equivalence", MANGROVE, "SH", VN, MARCH, KUNSHAN, None, 1, ["5001"], None, None),
    ("ah-forest-sh", forest(), "SH", VN, MARCH, FOREST, None, 1, [], 1, "0/1"),
    ("ah-forest-no-period", forest(), "SH", VN, MARCH, NO_PERIOD, None, 1, ["5003"], 1, "0/1"),
    ("ah-forest-v2-biodiversity", forest(), "SH", VN, AUGUST, FOREST, None, 2, [], 1, "0/1"),
    ("ah-forest-v2-no-tag", NO_TAG, "SH", VN, AUGUST, FOREST, None, 2, ["5003"], 1, "0/1"),
    ("v2-pv-before-effective", pv(), "SH", ETS, MARCH, KUNSHAN, LARGE, 2, ["5002"], 245, "55/61"),
    ("v2-pv-sh-ets", pv(), "SH", ETS, AUGUST, KUNSHAN, LARGE, 2, [], 245, "55/61"),
    ("v2-outside-share-20pc", pv(), "SH", ETS, AUGUST, KUNSHAN, ROOMY, 2, ["5005"], 245, "55/61"),
    ("v1-ev-sh-ets", ev(), "SH", ETS, MARCH, KUNSHAN, ROOMY, 1, [], 100, "0/1"),
    ("v2-ev-sh-ets", ev(), "SH", ETS, AUGUST, KUNSHAN, ROOMY, 2, ["5004"], 100, "0/1"),
]
# fmt: on


@pytest.mark.parametrize(
    (
        "block",
        "destination",
        "purpose",
        "on",
        "project",
        "usage",
        "version",
        "failed",
        "converted",
        "remainder",
    ),
    [row[1:] for row in ROWS],
    ids=[row[0] for row in ROWS],
)
def test_evaluation_table(
    block, destination, purpose, on, project, usage, version, failed, converted, remainder
) -> None:
    decision = evaluate(
        block,
        destination=destination,
        purpose=purpose,
        on_date=on,
        ruleset=default_ruleset(version),
        project=project,
        usage=usage,
    )
    assert [check.code for check in decision.failures] == failed
    assert decision.eligible is (not failed)
    assert decision.converted_quantity == converted
    assert (str(decision.remainder) if decision.remainder else None) == remainder
    assert decision.ruleset.version == version
    if converted is not None:
        exact = Fraction(block["quantity"]) * decision.factor.fraction
        assert decision.converted_quantity + decision.remainder.fraction == exact
        assert 0 <= decision.remainder.fraction < 1


def test_the_demo_decision_in_full() -> None:
    decision = evaluate(
        pv(),
        destination="SH",
        purpose="ets-compliance",
        on_date=MARCH,
        ruleset=default_ruleset(1),
        project=KUNSHAN,
        usage=ROOMY,
    )
    record = decision.as_record()
    assert record["factor"] == {"numerator": 4200, "denominator": 5978}
    assert (record["converted_quantity"], record["remainder"]) == (
        245,
        {"numerator": 55, "denominator": 61},
    )
    assert record["destination_methodology"] == {
        "catalogue_id": "PV-DISTRIBUTED",
        "local_code": "SH-PV-DIST",
        "version": "2024",
    }
    assert record["ruleset"]["ruleset_id"] == "yrd-recognition"
    assert record["ruleset"]["digest"] == default_ruleset(1).digest.as_dict()
    assert [c["reason"] for c in record["conditions"]] == [
        "vintage 2025 within 2022–2030",
        "399 kW ≤ 1 MW",
        "not registered in CCER",
    ]
    assert record["checks"][-1] == {
        "code": "5005",
        "passed": True,
        "detail": "offsets 0 + 245 = 245 ≤ 5/100 (5 %) of 20000 = 1000; outside SH 0 + 245 = 245"
        " ≤ 30/100 (30 %) of the allowance 1000 = 300",
    }
    assert record["eligible"] is True and record["demonstration"] is True


def test_a_decision_fits_the_recognition_decision_schema() -> None:
    decision = evaluate(
        pv(120),
        destination="SH",
        purpose="ets-compliance",
        on_date=MARCH,
        ruleset=default_ruleset(1),
        project=KUNSHAN,
        usage=ROOMY,
    )
    document = {
        "request_id": "RR-2026-0001",
        "decision": "approved",
        "reason": "all checks passed",
        "decided_by": ["operator-sh"],
        "decided_at": "2026-03-03T16:40:00+08:00",
        "evaluation": decision.evaluation_record(),
        "checks": [check.as_dict() for check in decision.checks],
    }
    assert validate("recognition-decision", document) == []


def test_same_inputs_give_the_same_canonical_bytes() -> None:
    def run(ruleset):
        return evaluate(
            pv(),
            destination="SH",
            purpose="ets-compliance",
            on_date=MARCH,
            ruleset=ruleset,
            project=KUNSHAN,
            usage=PurposeUsage(20_000),
        )

    first = run(default_ruleset(1)).canonical_bytes()
    assert first == run(default_ruleset(1)).canonical_bytes()
    assert first == run(default_ruleset_payload(1)).canonical_bytes()  # a payload parses the same
    assert is_canonical(first)
    assert (
        hashlib.sha256(first).hexdigest()
        == hashlib.sha256(run(default_ruleset(1)).canonical_bytes()).hexdigest()
    )


def test_records_hold_no_floats() -> None:
    def walk(value):
        assert not isinstance(value, float)
        if isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    for row in ROWS:
        walk(
            evaluate(
                row[1],
                destination=row[2],
                purpose=row[3],
                on_date=row[4],
                ruleset=default_ruleset(row[7]),
                project=row[5],
                usage=row[6],
            ).as_record()
        )


def test_a_different_input_gives_different_bytes() -> None:
    base = {
        "destination": "SH",
        "purpose": "ets-compliance",
        "ruleset": default_ruleset(1),
        "project": KUNSHAN,
        "usage": ROOMY,
    }
    one = evaluate(pv(), on_date=MARCH, **base).canonical_bytes()
    other = evaluate(pv(), on_date=date(2026, 3, 4), **base).canonical_bytes()
    assert one != other


@pytest.mark.parametrize(
    ("changes", "pointer"),
    [
        ({"quantity": "350"}, "/quantity"),
        ({"quantity": 0}, "/quantity"),
        ({"vintage": True}, "/vintage"),
        ({"methodology": {"catalogue_id": "PV-DISTRIBUTED"}}, "/methodology/local_code"),
        ({"monitoring_period": {"start": "2025-13-01", "end": "2025-12-31"}}, "/monitoring_period"),
    ],
)
def test_unusable_blocks_raise_1002_with_a_pointer(changes, pointer) -> None:
    with pytest.raises(EvaluationInputError) as raised:
        evaluate(
            {**pv(), **changes},
            destination="SH",
            purpose="ets-compliance",
            on_date=MARCH,
            ruleset=default_ruleset(1),
        )
    assert raised.value.code == "1002"
    assert pointer in [issue.pointer for issue in raised.value.issues]


@pytest.mark.parametrize("usage", [(-1, 0, 0), (100, 10, 20), (100, "5", 0)])
def test_malformed_usage_is_refused_with_1004(usage) -> None:
    with pytest.raises(EvaluationInputError) as raised:
        PurposeUsage(*usage)
    assert raised.value.code == "1004"


def test_project_facts_come_from_a_project_record() -> None:
    record = {
        "capacity": {"value": 399, "unit": "kW"},
        "crediting_period": {"start": "2025-01-01", "end": "2034-12-31"},
        "registered_elsewhere": [{"scheme": "CCER", "id": "CCER-P-1"}],
    }
    facts = ProjectFacts.from_project(record)
    assert facts == ProjectFacts(
        Capacity(399, "kW"),
        DateRange(date(2025, 1, 1), date(2034, 12, 31)),
        frozenset({"CCER"}),
    )
    assert ProjectFacts.from_project({}).registered_elsewhere is None
