"""Readable diffs between ruleset versions."""

from __future__ import annotations

import copy

import pytest

from standards.defaults import default_ruleset, default_ruleset_payload
from standards.diff import diff_record, diff_rulesets, render_diff


def test_the_default_v1_to_v2_diff_reads_as_sentences() -> None:
    texts = [change.text for change in diff_rulesets(default_ruleset(1), default_ruleset(2))]
    assert texts[:3] == [
        "version 1 -> 2",
        "supersedes (none) -> 1",
        "effective_from 2026-01-01 -> 2026-07-01",
    ]
    for expected in (
        "equivalence JS PV-DISTRIBUTED -> SH PV-DISTRIBUTED: vintage_range 2022–2030 -> 2023–2030",
        "equivalence JS EV-CHARGING -> SH EV-CHARGING: removed purpose ets-compliance",
        "equivalence AH AFFORESTATION -> SH AFFORESTATION: added condition requires_co_benefit biodiversity",
        "added equivalence JS TRANSIT-BIKE -> SH TRANSIT-BIKE (factor 1/1; conditions:"
        " vintage_range 2024–2030; purposes: points-exchange, voluntary-neutralization)",
        "purpose rule SH ets-compliance: max_outside_region_share 30/100 (30 %) -> 20/100 (20 %)",
    ):
        assert expected in texts
    assert len(texts) == 17


def _payload(mutate):
    payload = default_ruleset_payload(1)
    mutate(payload)
    return payload


def _js_sh_pv(payload):
    return next(e for e in payload["equivalences"] if e["equivalence_id"] == "js-sh-pv")


def _factor(payload):
    _js_sh_pv(payload)["factor"] = {"numerator": 2100, "denominator": 2800}


def _add_vintage_to_forest(payload):
    item = next(e for e in payload["equivalences"] if e["equivalence_id"] == "ah-sh-forest")
    item["conditions"].append({"vintage_range": {"min": 2021, "max": 2030}})


def _drop_capacity(payload):
    item = _js_sh_pv(payload)
    item["conditions"] = [c for c in item["conditions"] if "capacity_max" not in c]


def _remove_equivalence(payload):
    payload["equivalences"].remove(_js_sh_pv(payload))


def _until(payload):
    payload["effective_until"] = "2026-12-31"


def _origins(payload):
    rule = payload["purpose_rules"][0]
    rule["accepted_origins"] = ["JS", "ZJ", "CCER", "GD"]


def _new_rule(payload):
    payload["purpose_rules"].append(
        {"destination": "CCER", "purpose": "charitable-retirement", "accepted_origins": ["SH"]}
    )


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (
            _factor,
            ["equivalence JS PV-DISTRIBUTED -> SH PV-DISTRIBUTED: factor 4200/5978 -> 2100/2800"],
        ),
        (
            _add_vintage_to_forest,
            ["equivalence AH AFFORESTATION -> SH AFFORESTATION: added condition vintage_range 2021–2030"],
        ),
        (
            _drop_capacity,
            ["equivalence JS PV-DISTRIBUTED -> SH PV-DISTRIBUTED: removed condition capacity_max 1 MW"],
        ),
        (_until, ["effective_until (none) -> 2026-12-31"]),
        (
            _origins,
            [
                "purpose rule SH ets-compliance: removed origin AH",
                "purpose rule SH ets-compliance: added origin GD",
            ],
        ),
        (
            _new_rule,
            ["added purpose rule CCER charitable-retirement (origins SH)"],
        ),
    ],
)
def test_single_changes(mutate, expected) -> None:
    texts = [c.text for c in diff_rulesets(default_ruleset_payload(1), _payload(mutate))]
    assert texts == expected


def test_a_removed_equivalence_is_summarized() -> None:
    changes = diff_rulesets(default_ruleset_payload(1), _payload(_remove_equivalence))
    assert [(c.kind, c.subject) for c in changes] == [
        ("removed", "equivalence JS PV-DISTRIBUTED -> SH PV-DISTRIBUTED")
    ]
    assert "factor 4200/5978; conditions: vintage_range 2022–2030; capacity_max 1 MW;" in (changes[0].text)


def test_identical_rulesets_have_no_changes_and_order_is_stable() -> None:
    payload = default_ruleset_payload(1)
    assert diff_rulesets(payload, copy.deepcopy(payload)) == []
    assert render_diff(payload, payload) == "ruleset yrd-recognition v1 -> yrd-recognition v1: 0 changes\n"
    first = render_diff(default_ruleset(1), default_ruleset(2))
    assert first == render_diff(default_ruleset_payload(1), default_ruleset_payload(2))


def test_rendered_text_and_json_form() -> None:
    text = render_diff(default_ruleset(1), default_ruleset(2))
    lines = text.splitlines()
    assert lines[0] == "ruleset yrd-recognition v1 -> yrd-recognition v2: 17 changes"
    assert "  ~ effective_from 2026-01-01 -> 2026-07-01" in lines
    assert any(line.startswith("  + added equivalence SH TRANSIT-BIKE -> JS") for line in lines)
    record = diff_record(default_ruleset(1), default_ruleset(2))
    assert record["from"]["version"] == 1 and record["to"]["version"] == 2
    assert record["to"]["digest"] == default_ruleset(2).digest.as_dict()
    assert {c["kind"] for c in record["changes"]} == {"added", "removed", "changed"}
