"""Roles and the scopes each may hold. An administrator's scope is held by no other kind: the
role is granted only by creating an ``admin`` client."""

from __future__ import annotations

from enum import StrEnum


class ClientKind(StrEnum):
    PLATFORM = "platform"
    OPERATOR = "operator"
    COMMITTEE = "committee"
    ADMIN = "admin"


PLATFORM_SCOPES = (
    "blocks:read",
    "blocks:write",
    "recognitions:request",
    "transfers:write",
    "events:read",
    "reconciliation:write",
)
COMMITTEE_SCOPES = ("rulesets:publish",)
OPERATOR_SCOPES = ("recognitions:decide", "platforms:manage", "reports:read")
ADMIN_SCOPES = ("federation:admin",)

SCOPES_BY_KIND: dict[ClientKind, tuple[str, ...]] = {
    ClientKind.PLATFORM: PLATFORM_SCOPES,
    ClientKind.OPERATOR: OPERATOR_SCOPES,
    ClientKind.COMMITTEE: COMMITTEE_SCOPES,
    ClientKind.ADMIN: ADMIN_SCOPES,
}
ALL_SCOPES = PLATFORM_SCOPES + COMMITTEE_SCOPES + OPERATOR_SCOPES + ADMIN_SCOPES


def allowed_scopes(kind: ClientKind, requested: list[str] | None = None) -> list[str]:
    """The scopes of ``requested`` a client of ``kind`` may hold (all of them when None)."""
    permitted = SCOPES_BY_KIND[kind]
    if requested is None:
        return list(permitted)
    return [scope for scope in requested if scope in permitted]
