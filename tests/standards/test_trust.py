"""Signed envelopes and k-of-n thresholds, as tables of (keys, threshold, signatures -> outcome)."""

from __future__ import annotations

import copy
import hashlib

import pytest

from schemas.canonical import canonicalize
from schemas.jws import sign_detached, verify_detached
from standards.envelope import make_envelope, parse_envelope, payload_digest, sign_envelope
from standards.errors import EnvelopeError
from standards.trust import Role, ThresholdError, check_role, verify_role
from tests.standards.support import KEYS, kids

PAYLOAD = {"ruleset_id": "demo", "version": 1, "factor": {"numerator": 4200, "denominator": 5978}}
OTHER = {**PAYLOAD, "version": 2}


def role_of(members: list[int], threshold: int) -> Role:
    return Role(tuple(KEYS[i].kid for i in members), threshold)


def entries(signers: list[int | tuple[int, str]]) -> list[dict[str, str]]:
    """Signature entries; ``(i, "other")`` signs another payload, ``(i, "swap")`` claims key i's
    kid with key 4's signature."""
    out = []
    for item in signers:
        index, how = item if isinstance(item, tuple) else (item, "")
        body = canonicalize(OTHER if how == "other" else PAYLOAD)
        signer = KEYS[4] if how == "swap" else KEYS[index]
        out.append({"kid": KEYS[index].kid, "jws": sign_detached(body, signer)})
    return out


THRESHOLD_ROWS = [
    # members, threshold, signatures, verified, missing, signed, unknown, invalid
    ([0, 1, 2], 2, [0], False, 1, [0], [], []),
    ([0, 1, 2], 2, [0, 1], True, 0, [0, 1], [], []),
    ([0, 1, 2], 2, [2, 0, 1], True, 0, [0, 1, 2], [], []),
    ([0, 1, 2], 2, [], False, 2, [], [], []),
    ([0, 1, 2], 2, [0, 0], False, 1, [0], [], []),
    ([0, 1, 2], 2, [1, 1, 1], False, 1, [1], [], []),
    ([0, 1, 2], 3, [0, 1], False, 1, [0, 1], [], []),
    ([0], 1, [0], True, 0, [0], [], []),
    ([0, 1, 2], 1, [2], True, 0, [2], [], []),
    ([0, 1, 2], 2, [0, 3], False, 1, [0], [3], []),
    ([0, 1, 2], 2, [3, 4], False, 2, [], [3, 4], []),
    ([0, 1, 2], 2, [0, (1, "other")], False, 1, [0], [], [1]),
    ([0, 1, 2], 2, [0, (1, "swap")], False, 1, [0], [], [1]),
    ([0, 1, 2], 2, [(1, "other"), 1, 0], True, 0, [0, 1], [], []),
]


@pytest.mark.parametrize(
    ("members", "threshold", "signers", "verified", "missing", "signed", "unknown", "invalid"),
    THRESHOLD_ROWS,
)
def test_threshold_table(members, threshold, signers, verified, missing, signed, unknown, invalid) -> None:
    keys = {key.kid: key for key in KEYS}
    signatures = parse_envelope({"signed": PAYLOAD, "signatures": entries(signers)})[1]
    result = check_role(canonicalize(PAYLOAD), signatures, keys, role_of(members, threshold), "rulesets")
    assert (result.verified, result.missing) == (verified, missing)
    assert result.signed == kids(signed)
    assert result.unsigned == kids(set(members) - set(signed))
    assert (result.unknown, result.invalid) == (kids(unknown), kids(invalid))
    if verified:
        assert verify_role(canonicalize(PAYLOAD), signatures, keys, role_of(members, threshold), "r")
    else:
        with pytest.raises(ThresholdError) as raised:
            verify_role(canonicalize(PAYLOAD), signatures, keys, role_of(members, threshold), "r")
        assert raised.value.code == "1021"
        assert raised.value.missing == missing
        assert f"{missing} missing" in raised.value.message


def test_a_role_key_missing_from_the_key_set_counts_as_unknown() -> None:
    keys = {KEYS[0].kid: KEYS[0]}
    signatures = parse_envelope({"signed": PAYLOAD, "signatures": entries([0, 1])})[1]
    result = check_role(canonicalize(PAYLOAD), signatures, keys, role_of([0, 1], 2), "rulesets")
    assert (result.signed, result.unknown, result.missing) == (kids([0]), kids([1]), 1)


def test_sign_envelope_adds_one_signature_over_the_canonical_payload() -> None:
    envelope = make_envelope(PAYLOAD)
    once = sign_envelope(envelope, KEYS[0])
    twice = sign_envelope(once, KEYS[1])
    assert envelope["signatures"] == [] and len(once["signatures"]) == 1
    assert [entry["kid"] for entry in twice["signatures"]] == [KEYS[0].kid, KEYS[1].kid]
    assert twice["signed"] == PAYLOAD
    for entry, key in zip(twice["signatures"], KEYS[:2], strict=True):
        assert verify_detached(entry["jws"], canonicalize(PAYLOAD), key).kid == key.kid


def test_signing_again_with_the_same_key_replaces_its_signature() -> None:
    envelope = sign_envelope(sign_envelope(make_envelope(PAYLOAD), KEYS[0]), KEYS[0])
    assert [entry["kid"] for entry in envelope["signatures"]] == [KEYS[0].kid]


def test_sign_envelope_does_not_change_its_input() -> None:
    envelope = make_envelope(PAYLOAD)
    before = copy.deepcopy(envelope)
    sign_envelope(envelope, KEYS[0])
    assert envelope == before


def test_the_digest_is_sha256_of_the_canonical_payload() -> None:
    digest = payload_digest(PAYLOAD)
    assert digest.as_dict() == {
        "alg": "sha-256",
        "value": hashlib.sha256(canonicalize(PAYLOAD)).hexdigest(),
    }
    reordered = dict(reversed(list(PAYLOAD.items())))
    assert payload_digest(reordered) == digest


@pytest.mark.parametrize(
    ("envelope", "pointer"),
    [
        ([], None),
        ({"signatures": []}, "/signed"),
        ({"signed": PAYLOAD}, "/signatures"),
        ({"signed": PAYLOAD, "signatures": [], "extra": 1}, "/extra"),
        ({"signed": PAYLOAD, "signatures": [{"kid": "a"}]}, "/signatures/0"),
        ({"signed": PAYLOAD, "signatures": [{"kid": 1, "jws": "a..b"}]}, "/signatures/0/kid"),
        ({"signed": PAYLOAD, "signatures": [{"kid": "a", "jws": "a.b.c"}]}, "/signatures/0/jws"),
    ],
)
def test_malformed_envelopes_are_refused_with_1020(envelope, pointer) -> None:
    with pytest.raises(EnvelopeError) as raised:
        parse_envelope(envelope)
    assert raised.value.code == "1020"
    if pointer is not None:
        assert pointer in [issue.pointer for issue in raised.value.issues]


def test_a_payload_without_canonical_form_is_refused_with_1014() -> None:
    with pytest.raises(EnvelopeError) as raised:
        make_envelope({"serial": 2**60})
    assert raised.value.code == "1014"
