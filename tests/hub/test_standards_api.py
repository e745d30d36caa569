"""Standards over HTTP: catalogue, rulesets in force, threshold-checked publication, root rotation,
diff and evaluation — on the demo committee (2 of 3)."""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from hub.client import PermissionDenied, Refused
from schemas.canonical import canonicalize
from schemas.jwk import Ed25519Key
from standards import default_ruleset_payload, make_envelope, sign_envelope

EXAMPLES = Path(__file__).resolve().parents[2] / "schemas" / "examples"


def _member(federation: Path, number: int) -> Ed25519Key:
    return Ed25519Key.from_jwk(
        json.loads((federation / f"committee-{number}.json").read_text())["private_jwk"]
    )


def _v3(*members: Ed25519Key) -> dict:
    payload = default_ruleset_payload(2)
    payload.update({"version": 3, "supersedes": 2, "effective_from": "2027-01-01"})
    envelope = make_envelope(payload)
    for member in members:
        envelope = sign_envelope(envelope, member)
    return envelope


def test_methodology_catalogue_filters_by_region(client: TestClient) -> None:
    everything = client.get("/v1/methodologies").json()
    ccer = client.get("/v1/methodologies", params={"region": "CCER"}).json()
    assert {m["catalogue_id"] for m in ccer} < {m["catalogue_id"] for m in everything}
    afforestation = next(m for m in ccer if m["catalogue_id"] == "AFFORESTATION")
    assert "CCER-14-001-V01" in [code["code"] for code in afforestation["local_codes"]]


def test_the_demo_ruleset_in_force_with_its_digest(client: TestClient, federation: Path) -> None:
    early = client.get(
        "/v1/rulesets/current", params={"origin": "JS", "destination": "SH", "date": "2026-03-03"}
    )
    assert early.status_code == 200, early.text
    body = early.json()
    assert (body["ruleset_id"], body["version"]) == ("yrd-recognition", 1)
    expected = hashlib.sha256(canonicalize(default_ruleset_payload(1))).hexdigest()
    assert body["digest"] == {"alg": "sha-256", "value": expected}
    assert len(body["signed_by"]) == 2
    later = client.get(
        "/v1/rulesets/current", params={"origin": "JS", "destination": "SH", "date": "2026-08-01"}
    )
    assert later.json()["version"] == 2


def test_no_ruleset_before_the_first_is_in_force(client: TestClient, federation: Path) -> None:
    response = client.get(
        "/v1/rulesets/current", params={"origin": "JS", "destination": "SH", "date": "2025-01-01"}
    )
    assert response.status_code == 404
    assert response.json()["code"] == "5008"


def test_one_signature_of_three_is_refused_naming_who_signed(as_client, federation: Path) -> None:
    committee = as_client("committee-1")
    first = _member(federation, 1)
    with pytest.raises(Refused) as refused:
        committee.post("/v1/rulesets", _v3(first))
    problem = refused.value.problem
    assert refused.value.status == 422
    assert problem["code"] == "1021"
    assert problem["missing"] == 1
    assert problem["signatures"][0]["signed"] == [first.kid]
    assert problem["signatures"][0]["threshold"] == 2
    assert [r["version"] for r in committee.get("/v1/rulesets")] == [1, 2]


def test_two_of_three_is_published_and_a_second_time_conflicts(as_client, federation: Path) -> None:
    committee = as_client("committee-1")
    envelope = _v3(_member(federation, 1), _member(federation, 3))
    published = committee.post("/v1/rulesets", envelope)
    assert published["version"] == 3
    assert sorted(published["signed_by"]) == sorted([_member(federation, 1).kid, _member(federation, 3).kid])
    with pytest.raises(Refused) as again:
        committee.post("/v1/rulesets", envelope)
    assert again.value.status == 409
    assert again.value.code == "5006"


def test_flipping_one_byte_of_a_signed_ruleset_breaks_it(as_client, federation: Path) -> None:
    envelope = _v3(_member(federation, 1), _member(federation, 2))
    tampered = copy.deepcopy(envelope)
    tampered["signed"]["effective_from"] = "2027-01-02"
    with pytest.raises(Refused) as refused:
        as_client("committee-1").post("/v1/rulesets", tampered)
    assert refused.value.code == "1021"
    assert refused.value.problem["signatures"][0]["signed"] == []


def test_a_platform_cannot_publish(as_client, federation: Path) -> None:
    with pytest.raises(PermissionDenied):
        as_client("js").post("/v1/rulesets", _v3(_member(federation, 1), _member(federation, 2)))


def _root_v2(current: dict, new_keys: list[Ed25519Key]) -> dict:
    payload = copy.deepcopy(current["signed"])
    payload["version"] = 2
    payload["keys"] = {key.kid: key.public_jwk() for key in new_keys}
    kids = [key.kid for key in new_keys]
    payload["roles"] = {
        "root": {"keyids": kids, "threshold": 2},
        "rulesets": {"keyids": kids, "threshold": 2},
    }
    return make_envelope(payload)


def test_root_rotation_needs_both_thresholds(client: TestClient, as_client, federation: Path) -> None:
    committee = as_client("committee-1")
    current = client.get("/v1/standards/roots/yrd-committee").json()["envelope"]
    old = [_member(federation, n) for n in (1, 2, 3)]
    new = [Ed25519Key.generate() for _ in range(3)]
    only_new = _root_v2(current, new)
    for key in new:
        only_new = sign_envelope(only_new, key)
    with pytest.raises(Refused) as refused:
        committee.post("/v1/standards/root", only_new)
    assert refused.value.code == "1021"
    both = only_new
    for key in old[:2]:
        both = sign_envelope(both, key)
    assert committee.post("/v1/standards/root", both)["version"] == 2
    assert client.get("/v1/standards/roots/yrd-committee").json()["version"] == 2
    with pytest.raises(Refused):  # the old members alone no longer publish
        committee.post("/v1/rulesets", _v3(old[0], old[1]))
    assert committee.post("/v1/rulesets", _v3(new[0], new[2]))["version"] == 3


def test_the_diff_between_versions_is_readable(client: TestClient, federation: Path) -> None:
    response = client.get("/v1/rulesets/yrd-recognition/diff", params={"from": 1, "to": 2})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["from"]["version"] == 1
    assert body["to"]["version"] == 2
    assert body["changes"]
    assert "effective_from" in body["text"] or "2026-07-01" in body["text"]


def test_evaluating_the_kunshan_pv_block_for_shanghai(as_client) -> None:
    block = json.loads((EXAMPLES / "credit-block/valid/kunshan-pv-399kw.json").read_text())["instance"]
    project = json.loads((EXAMPLES / "project/valid/kunshan-pv-399kw.json").read_text())["instance"]
    decision = as_client("js").post(
        "/v1/rulesets/evaluate",
        {
            "block": block,
            "project": project,
            "destination": "SH",
            "purpose": "ets-compliance",
            "date": "2026-03-03",
            "verified_emissions": 20000,
        },
    )
    assert decision["converted_quantity"] == 245  # floor(350 × 4200/5978)
    assert decision["remainder"] == {"numerator": 55, "denominator": 61}
    assert decision["ruleset"]["version"] == 1
    assert decision["eligible"] is True


def test_evaluation_input_errors_are_4xx(as_client) -> None:
    with pytest.raises(Refused) as refused:
        as_client("js").post("/v1/rulesets/evaluate", {"block": {}, "destination": "SH", "purpose": "x"})
    assert refused.value.status in (400, 422)
