"""Committee roots: consistency checks, first installation and TUF-style rotation, as tables."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from standards.errors import RootError
from standards.root import (
    CommitteeRoot,
    check_root_update,
    root_issues,
    verify_initial_root,
    verify_root_update,
)
from standards.trust import ThresholdError
from tests.standards.support import KEYS, example, kids, root_payload, signed

NOW = datetime(2026, 3, 1, tzinfo=UTC)
PAST = "2026-02-01T00:00:00+08:00"


def test_the_schema_examples_are_consistent_roots() -> None:
    for name in ("three-members-two-of-three", "version-2-rotates-a-key"):
        root = CommitteeRoot.from_payload(example("committee-root", name))
        assert root.role("rulesets").threshold == 2
        assert len(root.keys) == 3


def _threshold_above_keys(payload: dict) -> None:
    payload["roles"]["rulesets"]["threshold"] = 4


def _unlisted_keyid(payload: dict) -> None:
    payload["roles"]["root"]["keyids"].append(KEYS[4].kid)


def _kid_not_thumbprint(payload: dict) -> None:
    payload["keys"][KEYS[4].kid] = payload["keys"].pop(KEYS[0].kid)
    payload["roles"]["root"]["keyids"][0] = KEYS[4].kid
    payload["roles"]["rulesets"]["keyids"][0] = KEYS[4].kid


def _stated_kid_differs(payload: dict) -> None:
    payload["keys"][KEYS[0].kid]["kid"] = KEYS[1].kid


def _no_rulesets_role(payload: dict) -> None:
    del payload["roles"]["rulesets"]


@pytest.mark.parametrize(
    ("mutate", "code", "pointer"),
    [
        (_threshold_above_keys, "1022", "/roles/rulesets/threshold"),
        (_unlisted_keyid, "1022", "/roles/root/keyids/3"),
        (_kid_not_thumbprint, "1022", "/keys/{kid4}"),
        (_stated_kid_differs, "1022", "/keys/{kid0}"),
        (_no_rulesets_role, "1002", "/roles/rulesets"),
    ],
    ids=["threshold-above-keys", "unlisted-keyid", "kid-not-thumbprint", "stated-kid", "no-role"],
)
def test_inconsistent_roots_are_refused(mutate, code, pointer) -> None:
    payload = root_payload([0, 1, 2])
    mutate(payload)
    pointer = pointer.format(kid0=KEYS[0].kid, kid4=KEYS[4].kid)
    assert pointer in [issue.pointer for issue in root_issues(payload)]
    with pytest.raises(RootError) as raised:
        CommitteeRoot.from_payload(payload)
    assert raised.value.code == code


@pytest.mark.parametrize(
    ("signers", "expires", "outcome"),
    [
        ([0, 1], None, "trusted"),
        ([0, 1, 2], None, "trusted"),
        ([0], None, "1021"),
        ([3, 4], None, "1021"),
        ([0, 1], PAST, "1024"),
    ],
)
def test_initial_root_must_be_self_signed_and_unexpired(signers, expires, outcome) -> None:
    payload = root_payload([0, 1, 2], **({"expires": expires} if expires else {}))
    envelope = signed(payload, signers)
    if outcome == "trusted":
        assert verify_initial_root(envelope, at=NOW).version == 1
        return
    with pytest.raises((RootError, ThresholdError)) as raised:
        verify_initial_root(envelope, at=NOW)
    assert raised.value.code == outcome


TRUSTED = [0, 1, 2]  # root v1: members 0, 1, 2, threshold 2

ROTATION_ROWS = [
    # id, new members, new threshold, signers, version, expires, committee, outcome, missing
    ("both-thresholds-same-keys", [0, 1, 2], 2, [0, 1], 2, None, None, "trusted", (0, 0)),
    ("rotate-one-key", [0, 1, 3], 2, [0, 1], 2, None, None, "trusted", (0, 0)),
    ("new-keys-signed-by-both", [3, 4, 0], 2, [1, 2, 3, 4], 2, None, None, "trusted", (0, 0)),
    ("old-and-new-overlap", [3, 4, 0], 2, [0, 1, 3], 2, None, None, "trusted", (0, 0)),
    ("signed-by-new-only", [3, 4, 0], 2, [3, 4], 2, None, None, "1021", (2, 0)),
    ("signed-by-old-only", [3, 4, 0], 2, [1, 2], 2, None, None, "1021", (0, 2)),
    ("one-short-of-old", [3, 4, 0], 2, [0, 3], 2, None, None, "1021", (1, 0)),
    ("raise-threshold-unmet", [0, 1, 2], 3, [0, 1], 2, None, None, "1021", (0, 1)),
    ("unsigned", [0, 1, 2], 2, [], 2, None, None, "1021", (2, 2)),
    ("version-skip", [0, 1, 2], 2, [0, 1, 2], 3, None, None, "1023", None),
    ("same-version", [0, 1, 2], 2, [0, 1, 2], 1, None, None, "1023", None),
    ("expired", [0, 1, 2], 2, [0, 1, 2], 2, PAST, None, "1024", None),
    ("other-committee", [0, 1, 2], 2, [0, 1, 2], 2, None, "other", "1025", None),
]


@pytest.mark.parametrize(
    ("members", "threshold", "signers", "version", "expires", "committee", "outcome", "missing"),
    [row[1:] for row in ROTATION_ROWS],
    ids=[row[0] for row in ROTATION_ROWS],
)
def test_root_rotation_table(
    members, threshold, signers, version, expires, committee, outcome, missing
) -> None:
    trusted = CommitteeRoot.from_payload(root_payload(TRUSTED))
    options = {"expires": expires} if expires else {}
    if committee:
        options["committee"] = committee
    payload = root_payload(members, threshold=threshold, version=version, **options)
    envelope = signed(payload, signers)
    if missing is not None:
        rotation = check_root_update(trusted, envelope)
        assert (rotation.previous.missing, rotation.current.missing) == missing
        assert rotation.verified == (outcome == "trusted")
        assert rotation.current.signed == kids(set(signers) & set(members))
    if outcome == "trusted":
        new = verify_root_update(trusted, envelope, at=NOW)
        assert (new.version, set(new.keys)) == (2, set(kids(members)))
        return
    with pytest.raises((RootError, ThresholdError)) as raised:
        verify_root_update(trusted, envelope, at=NOW)
    assert raised.value.code == outcome
    if outcome == "1021":
        assert isinstance(raised.value, ThresholdError)
        assert raised.value.missing == sum(missing)
        assert "root v1" in raised.value.message or "root v2" in raised.value.message


def test_a_chain_of_rotations_replaces_every_key() -> None:
    root = verify_initial_root(signed(root_payload([0, 1, 2]), [0, 1]), at=NOW)
    second = root_payload([1, 2, 3], version=2)
    root = verify_root_update(root, signed(second, [1, 2]), at=NOW)
    third = root_payload([3, 4], version=3, threshold=2)
    root = verify_root_update(root, signed(third, [1, 3, 4]), at=NOW)
    assert (root.version, set(root.keys)) == (3, set(kids([3, 4])))
    fourth = root_payload([3, 4], version=4)
    with pytest.raises(ThresholdError):  # the retired keys 0, 1 and 2 can no longer rotate
        verify_root_update(root, signed(fourth, [0, 1, 2]), at=NOW)


@pytest.mark.parametrize(
    ("at", "expired"),
    [
        (datetime(2029, 12, 31, 15, 59, 59, tzinfo=UTC), False),
        (datetime(2029, 12, 31, 16, 0, 0, tzinfo=UTC), True),
        (datetime(2029, 12, 31, 15, 59, 59), False),  # naive means UTC
    ],
)
def test_expiry_is_compared_as_instants(at, expired) -> None:
    root = CommitteeRoot.from_payload(root_payload([0, 1, 2]))  # expires 2030-01-01T00:00+08:00
    assert root.is_expired(at) is expired
