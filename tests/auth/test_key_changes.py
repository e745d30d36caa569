"""A platform's keys change only under one of its current keys, or by a two-administrator override;
which replaced keys keep a grace period (a table of rotations, as python-tuf tests key rotation)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlmodel import select

from hub.auth.models import AccessToken
from hub.client import AuthenticationFailed, PermissionDenied, PlatformClient, Refused
from hub.database import Database
from hub.platforms.keys import grace_keys
from schemas.jwk import Ed25519Key

KEYS = {name: Ed25519Key.generate() for name in "ABCX"}


def _set(*names: str) -> dict:
    return {"keys": [KEYS[name].public_jwk() for name in names]}


@dataclass(frozen=True)
class Rotation:
    name: str
    current: tuple[str, ...]
    new: tuple[str, ...]
    grace: tuple[str, ...]
    previous: tuple[str, ...] = ()
    forced: bool = False


ROTATIONS = [
    Rotation("the replaced key keeps its grace period", current=("A",), new=("B",), grace=("A",)),
    Rotation("only the keys dropped get grace", current=("A", "B"), new=("B", "C"), grace=("A",)),
    Rotation("keys in their grace period are not carried further", current=("B",), previous=("A",),
             new=("C",), grace=("B",)),
    Rotation("a key forced in by an override gets no grace", current=("X",), forced=True, new=("B",),
             grace=()),
    Rotation("restoring the previous set leaves the replaced key no grace", current=("X",),
             previous=("A",), new=("A",), grace=()),
    Rotation("restoring part of the previous set too", current=("X",), previous=("A",), new=("A", "C"),
             grace=()),
]  # fmt: skip


@pytest.mark.parametrize("rotation", ROTATIONS, ids=lambda r: r.name)
def test_which_replaced_keys_keep_a_grace_period(rotation: Rotation) -> None:
    previous = _set(*rotation.previous) if rotation.previous else None
    kept = grace_keys(_set(*rotation.current), previous, rotation.forced, _set(*rotation.new))
    assert [key["kid"] for key in kept] == [KEYS[name].kid for name in rotation.grace]


def _credentials(federation: Path, name: str) -> dict:
    return json.loads((federation / f"{name}.json").read_text())


def _as(client: TestClient, federation: Path, name: str, key: Ed25519Key | None = None) -> PlatformClient:
    credentials = _credentials(federation, name)
    if key is not None:
        credentials["private_jwk"] = key.private_jwk()
    return PlatformClient.from_credentials(credentials, transport=client._transport)


def test_a_key_in_its_grace_period_cannot_change_the_keys(client: TestClient, federation: Path) -> None:
    new = Ed25519Key.generate()
    with _as(client, federation, "js") as old:
        old.put("/v1/platforms/JS/jwks", {"keys": [new.public_jwk()]})
    with _as(client, federation, "js") as old, pytest.raises(PermissionDenied) as refused:
        old.put("/v1/platforms/JS/jwks", {"keys": [Ed25519Key.generate().public_jwk()]})
    assert refused.value.code == "2011"
    with _as(client, federation, "js", new) as current:
        current.put("/v1/platforms/JS/jwks", {"keys": [new.public_jwk(), KEYS["C"].public_jwk()]})


def test_a_restoring_rotation_does_not_keep_the_key_it_replaces(client: TestClient, federation: Path) -> None:
    original = Ed25519Key.from_jwk(_credentials(federation, "js")["private_jwk"])
    intruder = Ed25519Key.generate()
    with _as(client, federation, "js") as jiangsu:
        jiangsu.put("/v1/platforms/JS/jwks", {"keys": [intruder.public_jwk()]})
    with _as(client, federation, "js", intruder) as replaced:
        replaced.put("/v1/platforms/JS/jwks", {"keys": [original.public_jwk()]})
    with _as(client, federation, "js", intruder) as replaced, pytest.raises(AuthenticationFailed):
        replaced.access_token()  # no grace for the key the restore replaced
    with _as(client, federation, "js") as restored:
        assert restored.get("/v1/platforms/JS")["jwks"] == {"keys": [original.public_jwk()]}


def _propose(admin: PlatformClient, key: Ed25519Key) -> dict:
    body = {"jwks": {"keys": [key.public_jwk()]}, "reason": "JS lost its signing key"}
    return admin.post("/v1/platforms/JS/key-overrides", body)


def test_an_override_needs_two_distinct_administrators_and_is_logged(
    client: TestClient, database: Database, federation: Path
) -> None:
    forced = Ed25519Key.generate()
    with _as(client, federation, "js") as jiangsu:
        old_token = jiangsu.access_token()
    with _as(client, federation, "admin-1") as first, _as(client, federation, "admin-2") as second:
        proposed = _propose(first, forced)
        assert proposed["status"] == "pending" and proposed["proposed_by"] == "admin-1"
        approve = f"/v1/platforms/JS/key-overrides/{proposed['id']}/approve"
        with pytest.raises(PermissionDenied) as refused:
            first.post(approve, {})
        assert refused.value.code == "2012"
        with _as(client, federation, "js") as jiangsu:
            assert jiangsu.get("/v1/platforms/JS")["jwks"]["keys"][0]["kid"] != forced.kid  # not yet
        applied = second.post(approve, {})
        assert (applied["status"], applied["approved_by"]) == ("applied", "admin-2")
        with pytest.raises(Refused) as again:
            second.post(approve, {})
        assert (again.value.status, again.value.code) == (409, "2013")
        assert [o["id"] for o in first.get("/v1/platforms/JS/key-overrides")] == [proposed["id"]]
    response = client.get("/v1/platforms", headers={"Authorization": f"Bearer {old_token}"})
    assert response.json()["code"] == "1032"  # every outstanding token of the platform is revoked
    with _as(client, federation, "js") as old_key, pytest.raises(AuthenticationFailed):
        old_key.access_token()  # the replaced key has no grace period
    with _as(client, federation, "js", forced) as jiangsu:
        assert jiangsu.get("/v1/platforms/JS")["jwks"] == {"keys": [forced.public_jwk()]}
    types = [json.loads(entry)["type"] for entry in _log(client)]
    assert types[-2:] == ["platform.key_override_proposed", "platform.keys_overridden"]
    overridden = json.loads(_log(client)[-1])["data"]
    assert (overridden["proposed_by"], overridden["approved_by"]) == ("admin-1", "admin-2")


def _log(client: TestClient) -> list[str]:
    import base64

    size = client.get("/v1/log/tree-head").json()["tree_size"]
    items = client.get("/v1/log/entries", params={"start": 0, "end": size}).json()
    return [base64.b64decode(item["entry_b64"]).decode() for item in items]


def test_a_key_forced_by_an_override_gets_no_grace_on_the_next_rotation(
    client: TestClient, federation: Path
) -> None:
    forced, chosen = Ed25519Key.generate(), Ed25519Key.generate()
    with _as(client, federation, "admin-1") as first, _as(client, federation, "admin-2") as second:
        second.post(f"/v1/platforms/JS/key-overrides/{_propose(first, forced)['id']}/approve", {})
    with _as(client, federation, "js", forced) as jiangsu:
        jiangsu.put("/v1/platforms/JS/jwks", {"keys": [chosen.public_jwk()]})
    with _as(client, federation, "js", forced) as emergency, pytest.raises(AuthenticationFailed):
        emergency.access_token()
    with _as(client, federation, "js", chosen) as jiangsu:
        assert jiangsu.access_token()


def test_an_expired_override_cannot_be_approved(
    client: TestClient, database: Database, federation: Path
) -> None:
    with _as(client, federation, "admin-1") as first, _as(client, federation, "admin-2") as second:
        proposed = _propose(first, Ed25519Key.generate())
        with database.engine.begin() as connection:
            connection.execute(
                text("UPDATE key_override SET expires_at = :past WHERE id = :id"),
                {"past": datetime.now(UTC) - timedelta(seconds=1), "id": proposed["id"]},
            )
        with pytest.raises(Refused) as refused:
            second.post(f"/v1/platforms/JS/key-overrides/{proposed['id']}/approve", {})
    assert (refused.value.status, refused.value.code) == (409, "2013")


def test_an_administrator_must_sign_its_requests(client: TestClient, federation: Path) -> None:
    with _as(client, federation, "admin-1") as admin:
        token = admin.access_token()
    response = client.post("/v1/platforms/JS/suspend", headers={"Authorization": f"Bearer {token}"})
    assert (response.status_code, response.json()["code"]) == (401, "1016")


def test_suspension_revokes_every_token_of_the_platform_in_the_database(
    client: TestClient, database: Database, federation: Path
) -> None:
    with _as(client, federation, "js") as jiangsu, _as(client, federation, "sh") as shanghai:
        jiangsu.access_token(), shanghai.access_token()
    with _as(client, federation, "admin-1") as admin:
        admin.post("/v1/platforms/JS/suspend", {})
        admin.post("/v1/platforms/JS/reactivate", {})
    with database.unit_of_work() as session:
        rows = {row.client_id: row.revoked_at for row in session.exec(select(AccessToken)).all()}
    assert rows["js"] is not None  # dead for good: reactivation does not bring it back
    assert rows["sh"] is None  # another platform's tokens are untouched
