"""The authorization table, against the real app: every (role, action, owner of the object).

Each role is a demo client whose home is Shanghai: the platform ``sh``, the operator
``operator-sh``, the federation administrator ``admin-1``, the committee member ``committee-1``.
The owner of the object is SH itself (``own``), PD, a municipal platform registered in the same
ISO region CN-SH (``same-region``), or JS (``other-region``); administrators and committee members
have no home, so for them the three owners are just those three platforms. For ``register_platform``
the owner is the region of the platform being registered (CN-SH, CN-SH, CN-JS).

An allowed request answers 2xx; a refused one answers 403 (with a check code) or 404 — or, for a
suspended platform asking to be reactivated, 401: suspension revoked its token — and leaves the
transparency log as it was: nothing changed.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from hub.auth.policy import Actor
from hub.auth.scopes import ClientKind
from hub.client import AuthenticationFailed, NotFound, PermissionDenied, PlatformClient
from hub.database import Database
from hub.log.changes import append_queued
from hub.log.repository import LogRepository
from hub.platforms.keys import KeyService
from hub.platforms.models import PlatformCreate, PlatformStatus
from hub.platforms.service import PlatformService
from hub.recognition.models import Recognition
from hub.reconciliation.service import ReconciliationService
from schemas.jwk import Ed25519Key


@dataclass(frozen=True)
class Case:
    role: str
    action: str
    owner: str
    allowed: bool

    def __str__(self) -> str:
        return f"{self.role}-{self.action}-{self.owner}-{'allowed' if self.allowed else 'denied'}"


CLIENT_OF_ROLE = {"platform": "sh", "operator": "operator-sh", "admin": "admin-1", "committee": "committee-1"}
PLATFORM_OF_OWNER = {"own": "SH", "same-region": "PD", "other-region": "JS"}
REGION_OF_OWNER = {"own": "CN-SH", "same-region": "CN-SH", "other-region": "CN-JS"}

CASES = [
    # register_platform
    Case(role="platform", action="register_platform", owner="own", allowed=False),
    Case(role="platform", action="register_platform", owner="same-region", allowed=False),
    Case(role="platform", action="register_platform", owner="other-region", allowed=False),
    Case(role="operator", action="register_platform", owner="own", allowed=False),
    Case(role="operator", action="register_platform", owner="same-region", allowed=False),
    Case(role="operator", action="register_platform", owner="other-region", allowed=False),
    Case(role="admin", action="register_platform", owner="own", allowed=True),
    Case(role="admin", action="register_platform", owner="same-region", allowed=True),
    Case(role="admin", action="register_platform", owner="other-region", allowed=True),
    Case(role="committee", action="register_platform", owner="own", allowed=False),
    Case(role="committee", action="register_platform", owner="same-region", allowed=False),
    Case(role="committee", action="register_platform", owner="other-region", allowed=False),
    # rotate_keys
    Case(role="platform", action="rotate_keys", owner="own", allowed=True),
    Case(role="platform", action="rotate_keys", owner="same-region", allowed=False),
    Case(role="platform", action="rotate_keys", owner="other-region", allowed=False),
    Case(role="operator", action="rotate_keys", owner="own", allowed=False),
    Case(role="operator", action="rotate_keys", owner="same-region", allowed=False),
    Case(role="operator", action="rotate_keys", owner="other-region", allowed=False),
    Case(role="admin", action="rotate_keys", owner="own", allowed=False),
    Case(role="admin", action="rotate_keys", owner="same-region", allowed=False),
    Case(role="admin", action="rotate_keys", owner="other-region", allowed=False),
    Case(role="committee", action="rotate_keys", owner="own", allowed=False),
    Case(role="committee", action="rotate_keys", owner="same-region", allowed=False),
    Case(role="committee", action="rotate_keys", owner="other-region", allowed=False),
    # propose_key_override
    Case(role="platform", action="propose_key_override", owner="own", allowed=False),
    Case(role="platform", action="propose_key_override", owner="same-region", allowed=False),
    Case(role="platform", action="propose_key_override", owner="other-region", allowed=False),
    Case(role="operator", action="propose_key_override", owner="own", allowed=False),
    Case(role="operator", action="propose_key_override", owner="same-region", allowed=False),
    Case(role="operator", action="propose_key_override", owner="other-region", allowed=False),
    Case(role="admin", action="propose_key_override", owner="own", allowed=True),
    Case(role="admin", action="propose_key_override", owner="same-region", allowed=True),
    Case(role="admin", action="propose_key_override", owner="other-region", allowed=True),
    Case(role="committee", action="propose_key_override", owner="own", allowed=False),
    Case(role="committee", action="propose_key_override", owner="same-region", allowed=False),
    Case(role="committee", action="propose_key_override", owner="other-region", allowed=False),
    # approve_key_override
    Case(role="platform", action="approve_key_override", owner="own", allowed=False),
    Case(role="platform", action="approve_key_override", owner="same-region", allowed=False),
    Case(role="platform", action="approve_key_override", owner="other-region", allowed=False),
    Case(role="operator", action="approve_key_override", owner="own", allowed=False),
    Case(role="operator", action="approve_key_override", owner="same-region", allowed=False),
    Case(role="operator", action="approve_key_override", owner="other-region", allowed=False),
    Case(role="admin", action="approve_key_override", owner="own", allowed=True),
    Case(role="admin", action="approve_key_override", owner="same-region", allowed=True),
    Case(role="admin", action="approve_key_override", owner="other-region", allowed=True),
    Case(role="committee", action="approve_key_override", owner="own", allowed=False),
    Case(role="committee", action="approve_key_override", owner="same-region", allowed=False),
    Case(role="committee", action="approve_key_override", owner="other-region", allowed=False),
    # set_webhook
    Case(role="platform", action="set_webhook", owner="own", allowed=True),
    Case(role="platform", action="set_webhook", owner="same-region", allowed=False),
    Case(role="platform", action="set_webhook", owner="other-region", allowed=False),
    Case(role="operator", action="set_webhook", owner="own", allowed=False),
    Case(role="operator", action="set_webhook", owner="same-region", allowed=False),
    Case(role="operator", action="set_webhook", owner="other-region", allowed=False),
    Case(role="admin", action="set_webhook", owner="own", allowed=True),
    Case(role="admin", action="set_webhook", owner="same-region", allowed=True),
    Case(role="admin", action="set_webhook", owner="other-region", allowed=True),
    Case(role="committee", action="set_webhook", owner="own", allowed=False),
    Case(role="committee", action="set_webhook", owner="same-region", allowed=False),
    Case(role="committee", action="set_webhook", owner="other-region", allowed=False),
    # suspend
    Case(role="platform", action="suspend", owner="own", allowed=False),
    Case(role="platform", action="suspend", owner="same-region", allowed=False),
    Case(role="platform", action="suspend", owner="other-region", allowed=False),
    Case(role="operator", action="suspend", owner="own", allowed=False),
    Case(role="operator", action="suspend", owner="same-region", allowed=False),
    Case(role="operator", action="suspend", owner="other-region", allowed=False),
    Case(role="admin", action="suspend", owner="own", allowed=True),
    Case(role="admin", action="suspend", owner="same-region", allowed=True),
    Case(role="admin", action="suspend", owner="other-region", allowed=True),
    Case(role="committee", action="suspend", owner="own", allowed=False),
    Case(role="committee", action="suspend", owner="same-region", allowed=False),
    Case(role="committee", action="suspend", owner="other-region", allowed=False),
    # reactivate
    Case(role="platform", action="reactivate", owner="own", allowed=False),
    Case(role="platform", action="reactivate", owner="same-region", allowed=False),
    Case(role="platform", action="reactivate", owner="other-region", allowed=False),
    Case(role="operator", action="reactivate", owner="own", allowed=False),
    Case(role="operator", action="reactivate", owner="same-region", allowed=False),
    Case(role="operator", action="reactivate", owner="other-region", allowed=False),
    Case(role="admin", action="reactivate", owner="own", allowed=True),
    Case(role="admin", action="reactivate", owner="same-region", allowed=True),
    Case(role="admin", action="reactivate", owner="other-region", allowed=True),
    Case(role="committee", action="reactivate", owner="own", allowed=False),
    Case(role="committee", action="reactivate", owner="same-region", allowed=False),
    Case(role="committee", action="reactivate", owner="other-region", allowed=False),
    # read_deliveries
    Case(role="platform", action="read_deliveries", owner="own", allowed=True),
    Case(role="platform", action="read_deliveries", owner="same-region", allowed=False),
    Case(role="platform", action="read_deliveries", owner="other-region", allowed=False),
    Case(role="operator", action="read_deliveries", owner="own", allowed=True),
    Case(role="operator", action="read_deliveries", owner="same-region", allowed=True),
    Case(role="operator", action="read_deliveries", owner="other-region", allowed=False),
    Case(role="admin", action="read_deliveries", owner="own", allowed=True),
    Case(role="admin", action="read_deliveries", owner="same-region", allowed=True),
    Case(role="admin", action="read_deliveries", owner="other-region", allowed=True),
    Case(role="committee", action="read_deliveries", owner="own", allowed=False),
    Case(role="committee", action="read_deliveries", owner="same-region", allowed=False),
    Case(role="committee", action="read_deliveries", owner="other-region", allowed=False),
    # redeliver
    Case(role="platform", action="redeliver", owner="own", allowed=False),
    Case(role="platform", action="redeliver", owner="same-region", allowed=False),
    Case(role="platform", action="redeliver", owner="other-region", allowed=False),
    Case(role="operator", action="redeliver", owner="own", allowed=True),
    Case(role="operator", action="redeliver", owner="same-region", allowed=True),
    Case(role="operator", action="redeliver", owner="other-region", allowed=False),
    Case(role="admin", action="redeliver", owner="own", allowed=True),
    Case(role="admin", action="redeliver", owner="same-region", allowed=True),
    Case(role="admin", action="redeliver", owner="other-region", allowed=True),
    Case(role="committee", action="redeliver", owner="own", allowed=False),
    Case(role="committee", action="redeliver", owner="same-region", allowed=False),
    Case(role="committee", action="redeliver", owner="other-region", allowed=False),
    # read_reconciliation
    Case(role="platform", action="read_reconciliation", owner="own", allowed=True),
    Case(role="platform", action="read_reconciliation", owner="same-region", allowed=False),
    Case(role="platform", action="read_reconciliation", owner="other-region", allowed=False),
    Case(role="operator", action="read_reconciliation", owner="own", allowed=True),
    Case(role="operator", action="read_reconciliation", owner="same-region", allowed=True),
    Case(role="operator", action="read_reconciliation", owner="other-region", allowed=False),
    Case(role="admin", action="read_reconciliation", owner="own", allowed=False),
    Case(role="admin", action="read_reconciliation", owner="same-region", allowed=False),
    Case(role="admin", action="read_reconciliation", owner="other-region", allowed=False),
    Case(role="committee", action="read_reconciliation", owner="own", allowed=False),
    Case(role="committee", action="read_reconciliation", owner="same-region", allowed=False),
    Case(role="committee", action="read_reconciliation", owner="other-region", allowed=False),
    # resolve_reconciliation
    Case(role="platform", action="resolve_reconciliation", owner="own", allowed=False),
    Case(role="platform", action="resolve_reconciliation", owner="same-region", allowed=False),
    Case(role="platform", action="resolve_reconciliation", owner="other-region", allowed=False),
    Case(role="operator", action="resolve_reconciliation", owner="own", allowed=True),
    Case(role="operator", action="resolve_reconciliation", owner="same-region", allowed=True),
    Case(role="operator", action="resolve_reconciliation", owner="other-region", allowed=False),
    Case(role="admin", action="resolve_reconciliation", owner="own", allowed=False),
    Case(role="admin", action="resolve_reconciliation", owner="same-region", allowed=False),
    Case(role="admin", action="resolve_reconciliation", owner="other-region", allowed=False),
    Case(role="committee", action="resolve_reconciliation", owner="own", allowed=False),
    Case(role="committee", action="resolve_reconciliation", owner="same-region", allowed=False),
    Case(role="committee", action="resolve_reconciliation", owner="other-region", allowed=False),
    # read_recognition
    Case(role="platform", action="read_recognition", owner="own", allowed=True),
    Case(role="platform", action="read_recognition", owner="same-region", allowed=False),
    Case(role="platform", action="read_recognition", owner="other-region", allowed=False),
    Case(role="operator", action="read_recognition", owner="own", allowed=True),
    Case(role="operator", action="read_recognition", owner="same-region", allowed=True),
    Case(role="operator", action="read_recognition", owner="other-region", allowed=False),
    Case(role="admin", action="read_recognition", owner="own", allowed=False),
    Case(role="admin", action="read_recognition", owner="same-region", allowed=False),
    Case(role="admin", action="read_recognition", owner="other-region", allowed=False),
    Case(role="committee", action="read_recognition", owner="own", allowed=False),
    Case(role="committee", action="read_recognition", owner="same-region", allowed=False),
    Case(role="committee", action="read_recognition", owner="other-region", allowed=False),
    # decide_recognition
    Case(role="platform", action="decide_recognition", owner="own", allowed=False),
    Case(role="platform", action="decide_recognition", owner="same-region", allowed=False),
    Case(role="platform", action="decide_recognition", owner="other-region", allowed=False),
    Case(role="operator", action="decide_recognition", owner="own", allowed=True),
    Case(role="operator", action="decide_recognition", owner="same-region", allowed=True),
    Case(role="operator", action="decide_recognition", owner="other-region", allowed=False),
    Case(role="admin", action="decide_recognition", owner="own", allowed=False),
    Case(role="admin", action="decide_recognition", owner="same-region", allowed=False),
    Case(role="admin", action="decide_recognition", owner="other-region", allowed=False),
    Case(role="committee", action="decide_recognition", owner="own", allowed=False),
    Case(role="committee", action="decide_recognition", owner="same-region", allowed=False),
    Case(role="committee", action="decide_recognition", owner="other-region", allowed=False),
    # manage_operators: add an operator account for the owner's platform (administrators only)
    Case(role="platform", action="manage_operators", owner="own", allowed=False),
    Case(role="platform", action="manage_operators", owner="same-region", allowed=False),
    Case(role="platform", action="manage_operators", owner="other-region", allowed=False),
    Case(role="operator", action="manage_operators", owner="own", allowed=False),
    Case(role="operator", action="manage_operators", owner="same-region", allowed=False),
    Case(role="operator", action="manage_operators", owner="other-region", allowed=False),
    Case(role="admin", action="manage_operators", owner="own", allowed=True),
    Case(role="admin", action="manage_operators", owner="same-region", allowed=True),
    Case(role="admin", action="manage_operators", owner="other-region", allowed=True),
    Case(role="committee", action="manage_operators", owner="own", allowed=False),
    Case(role="committee", action="manage_operators", owner="same-region", allowed=False),
    Case(role="committee", action="manage_operators", owner="other-region", allowed=False),
]


def _platform(code: str, region: str) -> PlatformCreate:
    keys = {"keys": [Ed25519Key.generate().public_jwk()]}
    return PlatformCreate(
        code=code, name=f"{code} (test)", name_zh=f"{code}（测试）", region=region, kind="municipal",
        api_base_url=f"https://{code.lower()}.example/api", jwks=keys,
    )  # fmt: skip


def _prepare(database: Database, action: str, code: str) -> str:
    """The object the action is tried on, owned by platform ``code``; its id (or "")."""
    with database.unit_of_work() as session:
        if action == "reactivate":
            PlatformService(session).set_status(code, PlatformStatus.SUSPENDED, actor="test")
        if action == "approve_key_override":
            second = Actor("admin-2", ClientKind.ADMIN, frozenset({"federation:admin"}))
            jwks = {"keys": [Ed25519Key.generate().public_jwk()]}
            return KeyService(session).propose_override(code, jwks, "key lost", actor=second).id
        if action == "redeliver":
            PlatformService(session).set_webhook(code, "https://hooks.example/in", actor="test")
            append_queued(session)  # the change's delivery exists once the log appends it
            return str(LogRepository(session).deliveries([code], None, 1)[0].index)
        if action.endswith("_reconciliation"):
            return ReconciliationService(session).run(code, (1, 5), [], actor="test", submitted={}).id
        if action.endswith("_recognition"):
            recognition = Recognition(
                id=str(uuid.uuid4()), request_id="RR-TABLE", origin="ZJ", destination=code,
                purpose="voluntary_neutralization", status="pending_review", quantity=1,
                converted_quantity=1, request={}, evaluation={}, checks=[], requested_by="zj",
            )  # fmt: skip
            session.add(recognition)
            return recognition.id
    return ""


def _attempt(caller: PlatformClient, action: str, code: str, region: str, object_id: str) -> Any:
    new_keys = {"keys": [Ed25519Key.generate().public_jwk()]}
    requests: dict[str, Callable[[], Any]] = {
        "register_platform": lambda: caller.post(
            "/v1/platforms", _platform("NEW", region).model_dump(mode="json")
        ),
        "rotate_keys": lambda: caller.put(f"/v1/platforms/{code}/jwks", new_keys),
        "propose_key_override": lambda: caller.post(
            f"/v1/platforms/{code}/key-overrides", {"jwks": new_keys, "reason": "the platform lost its key"}
        ),
        "approve_key_override": lambda: caller.post(
            f"/v1/platforms/{code}/key-overrides/{object_id}/approve", {}
        ),
        "set_webhook": lambda: caller.put(f"/v1/platforms/{code}/webhook", {"url": "https://evil.example/"}),
        "suspend": lambda: caller.post(f"/v1/platforms/{code}/suspend", {}),
        "reactivate": lambda: caller.post(f"/v1/platforms/{code}/reactivate", {}),
        "read_deliveries": lambda: caller.get("/v1/webhooks/deliveries", platform=code),
        "redeliver": lambda: caller.post(f"/v1/webhooks/deliveries/{object_id}/{code}/redeliver", {}),
        "read_reconciliation": lambda: caller.get(f"/v1/reconciliations/{object_id}"),
        "resolve_reconciliation": lambda: caller.post(
            f"/v1/reconciliations/{object_id}/resolve", {"note": "fixed at the source"}
        ),
        "read_recognition": lambda: caller.get(f"/v1/recognitions/{object_id}"),
        "manage_operators": lambda: caller.post(
            "/v1/operators", {"username": f"operator-{uuid.uuid4().hex[:8]}", "region": code}
        ),
        "decide_recognition": lambda: caller.post(
            f"/v1/recognitions/{object_id}/decision", {"decision": "reject", "reason": "not eligible"}
        ),
    }
    return requests[action]()


def test_the_table_covers_every_combination() -> None:
    combinations = {(case.role, case.action, case.owner) for case in CASES}
    actions = {case.action for case in CASES}
    assert len(combinations) == len(CASES) == len(CLIENT_OF_ROLE) * len(actions) * len(PLATFORM_OF_OWNER)


@pytest.mark.parametrize("case", CASES, ids=str)
def test_authorization(
    case: Case, client: TestClient, database: Database, federation: Path,
    as_client: Callable[[str], PlatformClient],
) -> None:  # fmt: skip
    with database.unit_of_work() as session:
        PlatformService(session).register(_platform("PD", "CN-SH"), actor="test")
    code = PLATFORM_OF_OWNER[case.owner]
    caller = as_client(CLIENT_OF_ROLE[case.role])
    caller.access_token()
    object_id = _prepare(database, case.action, code)
    before = client.get("/v1/log/tree-head").json()["tree_size"]
    if case.allowed:
        _attempt(caller, case.action, code, REGION_OF_OWNER[case.owner], object_id)
        return
    with pytest.raises((PermissionDenied, NotFound, AuthenticationFailed)) as refused:
        _attempt(caller, case.action, code, REGION_OF_OWNER[case.owner], object_id)
    if isinstance(refused.value, PermissionDenied):
        assert refused.value.code in ("1033", "2010", "2011", "2012"), refused.value
    if isinstance(refused.value, AuthenticationFailed):  # a suspended platform: its token was revoked
        assert (case.action, case.role, refused.value.code) == ("reactivate", "platform", "1032")
    assert client.get("/v1/log/tree-head").json()["tree_size"] == before
