"""``/v1/operators``: administrators add, reset and remove operators through the API — signed,
logged (never the password), refused for every other role and for malformed, repeated, foreign
or unsigned requests, which change nothing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from hub.client import NotFound, PermissionDenied, PlatformClient, Refused
from hub.console.accounts import SignIn
from hub.database import Database
from hub.log.repository import LogRepository

AsClient = Callable[[str], PlatformClient]


def _log(database: Database) -> list[dict[str, Any]]:
    import json

    with database.unit_of_work() as session:
        repository = LogRepository(session)
        return [json.loads(entry.entry) for entry in repository.entries(0, repository.size())]


def _state(client: TestClient, admin: PlatformClient) -> tuple[int, list[dict[str, Any]]]:
    return client.get("/v1/log/tree-head").json()["tree_size"], admin.get("/v1/operators")


def test_an_administrator_adds_an_operator_who_can_sign_in(
    client: TestClient, database: Database, as_client: AsClient
) -> None:
    admin = as_client("admin-1")
    created = admin.post("/v1/operators", {"username": "operator-js-2", "region": "JS"})
    assert created["username"] == "operator-js-2" and created["region"] == "JS"
    password = created["password"]
    assert not isinstance(SignIn(database).sign_in("operator-js-2", password), str)
    listed = {row["username"]: row for row in admin.get("/v1/operators")}
    assert "password" not in listed["operator-js-2"] and listed["operator-js-2"]["region"] == "JS"
    entry = _log(database)[-1]
    assert entry["type"] == "operator.added"
    assert entry["subject"] == {"kind": "operator", "id": "operator-js-2"}
    assert entry["data"] == {"actor": "admin-1", "region": "JS"}
    assert password not in str(_log(database))


def test_reset_and_remove_end_the_operators_sessions(
    client: TestClient, database: Database, as_client: AsClient
) -> None:
    admin = as_client("admin-2")
    old = admin.post("/v1/operators", {"username": "alice", "region": "SH"})["password"]
    signing_in = SignIn(database)
    assert not isinstance(signing_in.sign_in("alice", old), str)
    new = admin.post("/v1/operators/alice/reset-password", {})["password"]
    assert new != old
    assert signing_in.sign_in("alice", old) == "wrong_credentials"
    assert not isinstance(signing_in.sign_in("alice", new), str)
    assert admin.delete("/v1/operators/alice") == {"username": "alice", "removed": True}
    assert signing_in.sign_in("alice", new) == "wrong_credentials"
    assert [e["type"] for e in _log(database)[-3:]] == [
        "operator.added",
        "operator.password_reset",
        "operator.removed",
    ]
    with pytest.raises(NotFound):
        admin.delete("/v1/operators/alice")  # removed twice
    with pytest.raises(NotFound):
        admin.post("/v1/operators/alice/reset-password", {})


@dataclass(frozen=True)
class Refusal:
    name: str
    body: Any
    status: int
    code: str
    pointer: str | None = None


REFUSALS = [
    Refusal(name="taken", body={"username": "operator-sh", "region": "SH"}, status=409, code="3012"),
    Refusal(name="unknown-region", body={"username": "bob", "region": "XX"}, status=404, code="2002"),
    Refusal(name="upper-case", body={"username": "Bob", "region": "SH"}, status=422, code="1002",
            pointer="/username"),
    Refusal(name="too-long", body={"username": "b" * 65, "region": "SH"}, status=422, code="1002",
            pointer="/username"),
    Refusal(name="no-region", body={"username": "bob"}, status=422, code="1002", pointer="/region"),
    Refusal(name="extra-field", body={"username": "bob", "region": "SH", "password": "chosen"},
            status=422, code="1002", pointer="/password"),
    Refusal(name="region-not-text", body={"username": "bob", "region": 7}, status=422, code="1002",
            pointer="/region"),
]  # fmt: skip


@pytest.mark.parametrize("case", REFUSALS, ids=lambda case: case.name)
def test_bad_requests_are_refused_and_change_nothing(
    case: Refusal, client: TestClient, as_client: AsClient
) -> None:
    admin = as_client("admin-1")
    before = _state(client, admin)
    with pytest.raises((Refused, NotFound)) as refused:
        admin.post("/v1/operators", case.body)
    problem = refused.value
    assert problem.status == case.status, problem.problem
    if case.pointer is None:
        assert problem.code == case.code
    else:
        named = [(e["pointer"], e["code"]) for e in problem.errors]
        assert named == [(case.pointer, case.code)], problem.problem
    assert _state(client, admin) == before


@pytest.mark.parametrize("role", ["sh", "operator-sh", "committee-1"])
def test_no_other_role_manages_operators(role: str, client: TestClient, as_client: AsClient) -> None:
    admin, caller = as_client("admin-1"), as_client(role)
    before = _state(client, admin)
    for attempt in (
        lambda: caller.get("/v1/operators"),
        lambda: caller.post("/v1/operators", {"username": "mallory", "region": "SH"}),
        lambda: caller.post("/v1/operators/operator-sh/reset-password", {}),
        lambda: caller.delete("/v1/operators/operator-js"),
    ):
        with pytest.raises(PermissionDenied) as refused:
            attempt()
        assert refused.value.code in ("1033", "2010"), refused.value.problem
    assert _state(client, admin) == before


def test_an_unsigned_request_is_refused_and_a_resent_one_answered_once(
    client: TestClient, as_client: AsClient
) -> None:
    admin = as_client("admin-1")
    before = _state(client, admin)
    headers = {"Authorization": f"Bearer {admin.access_token()}", "Content-Type": "application/json"}
    body = b'{"username":"eve","region":"SH"}'
    unsigned = client.post("/v1/operators", content=body, headers=headers)
    assert unsigned.status_code == 401 and unsigned.json()["code"] == "1016"
    signed = {**headers, "Puhui-Signature": admin.signature("POST", "/v1/operators", body)}
    first = client.post("/v1/operators", content=body, headers=signed)
    assert first.status_code == 201
    resent = client.post("/v1/operators", content=body, headers=signed)  # the answer was lost: a retry
    assert resent.status_code == 201 and resent.json() == first.json()  # the same password, once
    assert resent.headers["Idempotent-Replayed"] == "true"
    other = b'{"username":"eva","region":"SH"}'
    replay = client.post("/v1/operators", content=other, headers=signed)  # another body, a seen jti
    assert replay.status_code in (401, 409)  # the signature is not over these bytes (or replayed)
    other_path = client.delete("/v1/operators/operator-sh", headers={**signed})
    assert other_path.status_code in (401, 409)  # signed for another method and path (or replayed)
    after = _state(client, admin)
    assert after[0] == before[0] + 1
    assert [row["username"] for row in after[1]] == sorted([*(r["username"] for r in before[1]), "eve"])


def test_without_a_token_nothing_is_answered(client: TestClient, federation: object) -> None:
    for method, path in (("GET", "/v1/operators"), ("DELETE", "/v1/operators/operator-sh")):
        refused = client.request(method, path)
        assert refused.status_code == 401 and refused.json()["code"] == "1030", refused.json()


def test_the_operators_routes_are_in_the_openapi_document(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert {"get", "post"} <= set(paths["/v1/operators"])
    assert "delete" in paths["/v1/operators/{username}"]
    created = paths["/v1/operators"]["post"]["responses"]
    assert {"201", "401", "403", "409", "422"} <= set(created)
    assert "password" in str(created["201"]) or "OperatorCredentials" in str(created["201"])
