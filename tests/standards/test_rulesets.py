"""Rulesets: the default YRD data, consistency checks, in-force dates, current selection,
version succession, and signed publication against the committee root."""

from __future__ import annotations

import copy
import json
from datetime import UTC, date, datetime
from fractions import Fraction

import pytest

from schemas.validation import validate
from standards.catalogue import load_catalogue
from standards.defaults import default_ruleset, default_ruleset_payload
from standards.errors import RootError, RulesetError
from standards.publishing import (
    check_ruleset_signatures,
    check_succession,
    succession_issues,
    verify_ruleset,
)
from standards.root import CommitteeRoot
from standards.rulesets import Ruleset, require_current, ruleset_issues, select_current
from standards.trust import ThresholdError
from tests.standards.support import KEYS, example, kids, root_payload, signed

NOW = datetime(2026, 3, 1, tzinfo=UTC)
# kgCO2/kWh, FACTS.md: MEE/NBS announcement 2024 No. 33 (2022 values); Shanghai's local 0.42.
PV_FACTORS = {
    "SH": Fraction("0.42"),
    "JS": Fraction("0.5978"),
    "ZJ": Fraction("0.5153"),
    "AH": Fraction("0.6782"),
}


@pytest.fixture(scope="module")
def root() -> CommitteeRoot:
    return CommitteeRoot.from_payload(root_payload([0, 1, 2]))


@pytest.mark.parametrize("version", [1, 2])
def test_default_rulesets_are_valid_demonstration_data(version) -> None:
    payload = default_ruleset_payload(version)
    assert validate("ruleset", payload) == []
    assert ruleset_issues(payload, load_catalogue()) == []
    ruleset = default_ruleset(version)
    assert ruleset.demonstration is True
    assert ruleset.sources[0].startswith("DEMONSTRATION VALUES, NOT OFFICIAL POLICY")
    assert all(item.note and item.note.startswith("demonstration") for item in ruleset.equivalences)
    covered = {(e.origin_catalogue_id, e.origin_registry) for e in ruleset.equivalences}
    for methodology in ("PV-DISTRIBUTED", "EV-CHARGING", "TRANSIT-METRO", "TRANSIT-BUS"):
        assert {r for m, r in covered if m == methodology} == {"SH", "JS", "ZJ", "AH"}
    assert {r for m, r in covered if m == "AFFORESTATION"} == {"SH", "JS", "ZJ", "AH", "CCER"}


@pytest.mark.parametrize("version", [1, 2])
def test_pv_factors_rescale_the_official_grid_factors_capped_at_one(version) -> None:
    for item in default_ruleset(version).equivalences:
        if item.origin_catalogue_id != "PV-DISTRIBUTED":
            continue
        origin, destination = (
            PV_FACTORS[item.origin_registry],
            PV_FACTORS[item.destination_registry],
        )
        assert item.factor.fraction == min(Fraction(1), destination / origin), item.label


def test_the_jiangsu_to_shanghai_pv_factor_is_042_over_05978() -> None:
    item = default_ruleset().equivalence_for("JS", "PV-DISTRIBUTED", "JS-PV-DIST", "SH")
    assert item is not None
    assert str(item.factor) == "4200/5978"
    assert item.factor.fraction == Fraction(2100, 2989)


def test_every_factor_source_is_cited() -> None:
    sources = " ".join(default_ruleset().sources)
    for text in (
        "沪环气候〔2023〕89号",
        "2024 No. 33",
        "0.5978",
        "0.5153",
        "0.6782",
        "illustrative",
    ):
        assert text in sources


@pytest.mark.parametrize("name", ["yrd-recognition-v1", "yrd-recognition-v2-supersedes-v1"])
def test_the_schema_examples_parse(name) -> None:
    ruleset = Ruleset.from_payload(example("ruleset", name))
    assert ruleset.ruleset_id == "yrd-recognition"


def _set(path, value):
    def mutate(payload):
        node = payload
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value

    return mutate


def _append(path, value):
    def mutate(payload):
        node = payload
        for key in path:
            node = node[key]
        node.append(copy.deepcopy(value))

    return mutate


@pytest.mark.parametrize(
    ("mutate", "code", "pointer"),
    [
        (_set(["effective_until"], "2025-12-31"), "3004", "/effective_until"),
        (_set(["supersedes"], 1), "5007", "/supersedes"),
        (
            _set(["equivalences", 1, "equivalence_id"], "sh-js-pv"),
            "5007",
            "/equivalences/1/equivalence_id",
        ),
        (
            _set(["equivalences", 0, "conditions", 0], {"vintage_range": {"min": 2030, "max": 2022}}),
            "3004",
            "/equivalences/0/conditions/0/vintage_range",
        ),
        (_set(["equivalences", 0, "factor", "numerator"], 0), "5007", "/equivalences/0/factor"),
        (
            _set(["equivalences", 0, "destination", "catalogue_id"], "NO-SUCH-METHOD"),
            "5007",
            "/equivalences/0/destination",
        ),
        (_set(["equivalences", 0, "origin", "registry"], "CD"), "5007", "/equivalences/0/origin"),
        (
            _set(["equivalences", 0, "origin", "local_codes"], ["SHCER02020022024II"]),
            "5007",
            "/equivalences/0/origin/local_codes/0",
        ),
        (
            _append(
                ["purpose_rules"],
                {"destination": "SH", "purpose": "ets-compliance", "accepted_origins": ["JS"]},
            ),
            "5007",
            "/purpose_rules/13",
        ),
        (_set(["equivalences", 0, "factor"], 0.7026), "1002", "/equivalences/0/factor"),
    ],
)
def test_inconsistent_rulesets_are_refused(mutate, code, pointer) -> None:
    payload = default_ruleset_payload(1)
    assert payload["equivalences"][0]["equivalence_id"] == "sh-js-pv"
    mutate(payload)
    issues = ruleset_issues(payload, load_catalogue())
    assert (pointer, code) in [(issue.pointer, issue.code) for issue in issues]
    with pytest.raises(RulesetError) as raised:
        Ruleset.from_payload(payload, load_catalogue())
    assert raised.value.code == code


@pytest.mark.parametrize(
    ("effective_from", "effective_until", "on", "in_force"),
    [
        ("2026-01-01", None, "2025-12-31", False),
        ("2026-01-01", None, "2026-01-01", True),
        ("2026-01-01", None, "2099-01-01", True),
        ("2026-01-01", "2026-06-30", "2026-06-30", True),
        ("2026-01-01", "2026-06-30", "2026-07-01", False),
    ],
)
def test_in_force_table(effective_from, effective_until, on, in_force) -> None:
    payload = default_ruleset_payload(1)
    payload["effective_from"] = effective_from
    if effective_until:
        payload["effective_until"] = effective_until
    assert Ruleset.from_payload(payload).in_force(date.fromisoformat(on)) is in_force


def _variant(ruleset_id: str, version: int, effective_from: str, drop_js_sh: bool = False):
    payload = default_ruleset_payload(2 if version > 1 else 1)
    payload.update(ruleset_id=ruleset_id, version=version, effective_from=effective_from)
    if version > 1:
        payload["supersedes"] = version - 1
    if drop_js_sh:
        payload["equivalences"] = [
            e
            for e in payload["equivalences"]
            if (e["origin"]["registry"], e["destination"]["registry"]) != ("JS", "SH")
        ]
    return Ruleset.from_payload(payload)


V1 = _variant("yrd", 1, "2026-01-01")
V2 = _variant("yrd", 2, "2026-07-01")
V3_FUTURE = _variant("yrd", 3, "2027-01-01")
V2_DROPS = _variant("yrd", 2, "2026-07-01", drop_js_sh=True)
OTHER_V5 = _variant("other", 5, "2026-02-01")


@pytest.mark.parametrize(
    ("candidates", "origin", "destination", "on", "expected"),
    [
        ([V1, V2, V3_FUTURE], "JS", "SH", "2026-03-01", V1),
        ([V1, V2, V3_FUTURE], "JS", "SH", "2026-07-01", V2),
        ([V3_FUTURE, V2, V1], "JS", "SH", "2027-06-01", V3_FUTURE),
        ([V1, V2], "JS", "SH", "2025-06-01", None),
        ([V1, V2], "SH", "CCER", "2026-08-01", None),
        ([V1, V2_DROPS], "JS", "SH", "2026-08-01", None),  # v2 replaces v1 entirely
        ([V1, V2_DROPS], "ZJ", "SH", "2026-08-01", V2_DROPS),
        ([V1, OTHER_V5], "JS", "SH", "2026-03-01", OTHER_V5),
    ],
)
def test_current_ruleset_selection(candidates, origin, destination, on, expected) -> None:
    found = select_current(candidates, origin, destination, date.fromisoformat(on))
    assert found is expected
    if expected is None:
        with pytest.raises(RulesetError) as raised:
            require_current(candidates, origin, destination, date.fromisoformat(on))
        assert raised.value.code == "5008"


@pytest.mark.parametrize(
    ("new", "published", "pointers"),
    [
        (V1, [], []),
        (V2, [V1], []),
        (V3_FUTURE, [V1, V2], []),
        (V2, [], ["/version", "/supersedes"]),
        (V1, [V1], ["/version"]),
        (V3_FUTURE, [V1], ["/version", "/supersedes"]),
        (V2, [OTHER_V5], ["/version", "/supersedes"]),
    ],
)
def test_version_succession(new, published, pointers) -> None:
    assert [issue.pointer for issue in succession_issues(new, published)] == pointers
    if pointers:
        with pytest.raises(RulesetError) as raised:
            check_succession(new, published)
        assert raised.value.code == "5006"


def test_a_committee_change_breaks_succession() -> None:
    payload = copy.deepcopy(dict(V2.payload))
    payload["committee"] = "another-committee"
    issues = succession_issues(Ruleset.from_payload(payload), [V1])
    assert [issue.pointer for issue in issues] == ["/committee"]


@pytest.mark.parametrize(
    ("signers", "accepted", "missing"),
    [([0], False, 1), ([0, 1], True, 0), ([2, 1, 0], True, 0), ([3, 4], False, 2), ([], False, 2)],
)
def test_ruleset_publication_needs_the_rulesets_threshold(root, signers, accepted, missing) -> None:
    envelope = signed(default_ruleset_payload(1), signers)
    result = check_ruleset_signatures(envelope, root)
    assert (result.verified, result.missing) == (accepted, missing)
    assert result.signed == kids(set(signers) & {0, 1, 2})
    if accepted:
        verified = verify_ruleset(envelope, root, at=NOW, catalogue=load_catalogue())
        assert verified.ruleset.digest == default_ruleset(1).digest
        assert verified.result.signed == result.signed
        return
    with pytest.raises(ThresholdError) as raised:
        verify_ruleset(envelope, root, at=NOW)
    assert raised.value.code == "1021"
    assert raised.value.missing == missing
    assert raised.value.results[0].signed == result.signed


@pytest.mark.parametrize(
    ("original", "flipped"),
    [
        (b'"numerator":4200', b'"numerator":4201'),
        (b'"ruleset_id":"yrd-recognition"', b'"ruleset_id":"yrd-recognitiom"'),
        (b'"effective_from":"2026-01-01"', b'"effective_from":"2026-01-02"'),
        (b'"capacity_max":{"unit":"MW","value":1}', b'"capacity_max":{"unit":"MW","value":2}'),
    ],
)
def test_flipping_one_byte_of_a_signed_ruleset_breaks_verification(root, original, flipped) -> None:
    envelope = signed(default_ruleset_payload(1), [0, 1, 2])
    data = json.dumps(envelope, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
    assert data.count(original) >= 1 and len(original) == len(flipped)
    tampered = json.loads(data.replace(original, flipped, 1))
    result = check_ruleset_signatures(tampered, root)
    assert (result.signed, result.invalid, result.missing) == ((), kids([0, 1, 2]), 2)
    with pytest.raises(ThresholdError):
        verify_ruleset(tampered, root, at=NOW)
    assert verify_ruleset(json.loads(data), root, at=NOW).result.verified


def test_flipping_one_byte_of_a_signature_invalidates_that_signature(root) -> None:
    envelope = signed(default_ruleset_payload(1), [0, 1])
    jws = envelope["signatures"][0]["jws"]
    envelope["signatures"][0]["jws"] = jws[:-3] + ("A" if jws[-3] != "A" else "B") + jws[-2:]
    result = check_ruleset_signatures(envelope, root)
    assert (result.signed, result.invalid, result.missing) == (kids([1]), kids([0]), 1)


def test_an_expired_root_accepts_no_ruleset() -> None:
    expired = CommitteeRoot.from_payload(root_payload([0, 1, 2], expires="2026-01-01T00:00:00Z"))
    with pytest.raises(RootError) as raised:
        verify_ruleset(signed(default_ruleset_payload(1), [0, 1, 2]), expired, at=NOW)
    assert raised.value.code == "1024"


def test_a_ruleset_of_another_committee_is_refused() -> None:
    other = CommitteeRoot.from_payload(root_payload([0, 1, 2], committee="gd-committee"))
    with pytest.raises(RootError) as raised:
        verify_ruleset(signed(default_ruleset_payload(1), [0, 1]), other, at=NOW)
    assert raised.value.code == "1025"


def test_a_signed_but_invalid_ruleset_is_refused_after_its_signatures(root) -> None:
    payload = default_ruleset_payload(1)
    payload["effective_until"] = "2025-01-01"
    with pytest.raises(RulesetError) as raised:
        verify_ruleset(signed(payload, [0, 1]), root, at=NOW)
    assert raised.value.code == "3004"


def test_the_rulesets_role_threshold_is_separate_from_the_root_role() -> None:
    strict = CommitteeRoot.from_payload(root_payload([0, 1, 2], threshold=1, rulesets_threshold=3))
    result = check_ruleset_signatures(signed(default_ruleset_payload(1), [0, 1]), strict)
    assert (result.threshold, result.missing) == (3, 1)
    assert KEYS[2].kid in result.unsigned


def test_a_parsed_ruleset_keeps_its_own_copy_of_the_payload() -> None:
    payload = default_ruleset_payload(1)
    ruleset = Ruleset.from_payload(payload)
    payload["equivalences"][0]["factor"]["numerator"] = 7
    assert ruleset.payload["equivalences"][0]["factor"]["numerator"] == 1
    assert ruleset.digest == default_ruleset(1).digest
