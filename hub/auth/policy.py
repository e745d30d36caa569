"""Who may do what, in one place: one small pure function per action.

Roles are client kinds (``hub.auth.scopes.ClientKind``):

- a **platform** acts for its own platform only;
- a **regional operator** reviews and reports for its region: the platform its ``region`` names and
  the platforms registered in the same ISO 3166-2 region as that one;
- a **federation administrator** (kind ``admin``, scope ``federation:admin``, granted explicitly,
  never implied by another role) onboards, suspends and reactivates platforms, sets a webhook, and
  overrides a platform's keys together with a second administrator;
- a **committee member** publishes rulesets and nothing else.

Each function takes the caller (``Actor``) and the platform owning the object (``Target``) and
returns a ``Decision``: allowed or not, why, and — for a refusal — the check code, the scope that is
missing, and whether the answer must hide that the object exists (404). No database, no web: the
endpoints load the objects, call these, and ``hub.auth.actors.enforce`` turns a refusal into a
problem response.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from enum import StrEnum

from hub.auth.scopes import ClientKind

ADMIN_SCOPE = "federation:admin"
OPERATOR_SCOPE = "platforms:manage"
DECIDE_SCOPE = "recognitions:decide"
PUBLISH_SCOPE = "rulesets:publish"

NOT_PERMITTED = "2010"
KEY_CHANGE_UNSIGNED = "2011"
SECOND_ADMIN_REQUIRED = "2012"


class Owner(StrEnum):
    """How the platform owning an object relates to the caller."""

    OWN = "own"
    SAME_REGION = "same-region"
    OTHER_REGION = "other-region"


@dataclass(frozen=True, slots=True)
class Actor:
    """The caller as the policy sees it."""

    client_id: str
    kind: ClientKind
    scopes: frozenset[str]
    platform_code: str | None = None
    region_code: str | None = None
    home_region: str | None = None

    @property
    def home(self) -> str | None:
        """The platform the caller belongs to: its own (platforms) or its region's (operators)."""
        if self.kind is ClientKind.PLATFORM:
            return self.platform_code
        if self.kind is ClientKind.OPERATOR:
            return self.region_code
        return None


@dataclass(frozen=True, slots=True)
class Target:
    """The platform that owns the object acted on: its code and ISO 3166-2 region."""

    code: str
    region: str


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    reason: str
    code: str | None = None
    scope: str | None = None
    hide: bool = False

    def __bool__(self) -> bool:
        return self.allowed


def owner(actor: Actor, target: Target) -> Owner:
    """``target`` seen from ``actor``: its own platform, one of the same region, or another's."""
    if actor.home is not None and actor.home == target.code:
        return Owner.OWN
    if actor.home_region is not None and actor.home_region == target.region:
        return Owner.SAME_REGION
    return Owner.OTHER_REGION


def allow(reason: str) -> Decision:
    return Decision(True, reason)


def deny(reason: str, *, code: str = NOT_PERMITTED, hide: bool = False) -> Decision:
    return Decision(False, reason, code=code, hide=hide)


def _missing(scope: str) -> Decision:
    return Decision(False, f"this requires scope {scope}", code="1033", scope=scope)


def _admin(actor: Actor, what: str) -> Decision:
    """Administrators only: the scope is held by no other kind, so its absence is the refusal
    (an RFC 6750 insufficient_scope challenge naming it)."""
    if ADMIN_SCOPE not in actor.scopes:
        return _missing(ADMIN_SCOPE)
    if actor.kind is not ClientKind.ADMIN:
        return deny(f"only a federation administrator may {what}")
    return allow(f"a federation administrator may {what}")


def _in_region(actor: Actor, target: Target, scope: str, what: str, *, hide: bool) -> Decision:
    """An operator of ``target``'s region holding ``scope``."""
    if owner(actor, target) is Owner.OTHER_REGION:
        return deny(f"{target.code} is outside the region of {actor.client_id}", hide=hide)
    if scope not in actor.scopes:
        return _missing(scope)
    return allow(f"an operator of {target.code}'s region may {what}")


# platforms and their keys


def can_manage_operators(actor: Actor) -> Decision:
    """Adding, resetting and removing the console accounts of operators: administrators only."""
    return _admin(actor, "manage operator accounts")


def can_register_platform(actor: Actor) -> Decision:
    return _admin(actor, "register a platform")


def can_suspend(actor: Actor, target: Target) -> Decision:
    return _admin(actor, f"suspend {target.code}")


def can_reactivate(actor: Actor, target: Target) -> Decision:
    return _admin(actor, f"reactivate {target.code}")


def can_rotate_keys(
    actor: Actor, target: Target, signing_kid: str | None, current_kids: Collection[str]
) -> Decision:
    """Only the platform itself, by a request signed with one of its current keys (not a key in its
    grace period): whoever holds only a replaced key cannot take the platform back."""
    if actor.kind is ClientKind.ADMIN:
        return deny("an administrator changes a platform's keys only by a two-administrator override")
    if actor.kind is not ClientKind.PLATFORM or owner(actor, target) is not Owner.OWN:
        return deny(f"only {target.code} itself may rotate its keys")
    if signing_kid is None or signing_kid not in current_kids:
        return deny(
            f"a key change must be signed with a current key of {target.code}", code=KEY_CHANGE_UNSIGNED
        )
    return allow(f"{target.code} rotates its own keys under its current key {signing_kid}")


def can_propose_key_override(actor: Actor, target: Target) -> Decision:
    return _admin(actor, f"propose a key override for {target.code}")


def can_approve_key_override(actor: Actor, target: Target, proposed_by: str) -> Decision:
    """A second, distinct administrator approves (four eyes)."""
    decision = _admin(actor, f"approve a key override for {target.code}")
    if decision and actor.client_id == proposed_by:
        return deny(
            "a key override needs a second administrator: the proposer may not approve it",
            code=SECOND_ADMIN_REQUIRED,
        )
    return decision


def can_set_webhook(actor: Actor, target: Target) -> Decision:
    if actor.kind is ClientKind.ADMIN:
        return _admin(actor, f"set the webhook of {target.code}")
    if actor.kind is ClientKind.PLATFORM and owner(actor, target) is Owner.OWN:
        return allow(f"{target.code} sets its own webhook")
    return deny(f"only {target.code} itself or an administrator may set its webhook")


# webhook deliveries


def can_read_deliveries(actor: Actor, target: Target) -> Decision:
    if actor.kind is ClientKind.ADMIN:
        return _admin(actor, f"read the deliveries to {target.code}")
    if actor.kind is ClientKind.PLATFORM:
        if owner(actor, target) is Owner.OWN:
            return allow(f"{target.code} reads its own deliveries")
        return deny(f"only {target.code} itself may read its deliveries")
    if actor.kind is ClientKind.OPERATOR:
        return _in_region(actor, target, OPERATOR_SCOPE, "read its deliveries", hide=False)
    return deny("a committee member reads no deliveries")


def can_redeliver(actor: Actor, target: Target) -> Decision:
    if actor.kind is ClientKind.ADMIN:
        return _admin(actor, f"re-send a delivery to {target.code}")
    if actor.kind is ClientKind.OPERATOR:
        return _in_region(actor, target, OPERATOR_SCOPE, "re-send its deliveries", hide=False)
    return deny("only an operator of the region or an administrator re-sends a delivery")


# reconciliation


def can_read_reconciliation(actor: Actor, target: Target) -> Decision:
    if actor.kind is ClientKind.PLATFORM and owner(actor, target) is Owner.OWN:
        return allow(f"{target.code} reads its own reconciliations")
    if actor.kind is ClientKind.OPERATOR and owner(actor, target) is not Owner.OTHER_REGION:
        return allow(f"an operator of {target.code}'s region reads its reconciliations")
    return deny(f"the reconciliations of {target.code} are not the caller's", hide=True)


def can_resolve_reconciliation(actor: Actor, target: Target) -> Decision:
    if actor.kind is not ClientKind.OPERATOR:
        return deny(
            "only an operator of the region resolves a reconciliation",
            hide=not can_read_reconciliation(actor, target),
        )
    return _in_region(actor, target, OPERATOR_SCOPE, "resolve its reconciliations", hide=True)


# recognition


def can_read_recognition(actor: Actor, origin: Target, destination: Target) -> Decision:
    """The origin and the destination see a recognition: each platform itself, the operators of
    each one's region."""
    for side in (origin, destination):
        if actor.kind is ClientKind.PLATFORM and owner(actor, side) is Owner.OWN:
            return allow(f"{side.code} is a party to the recognition")
        if actor.kind is ClientKind.OPERATOR and owner(actor, side) is not Owner.OTHER_REGION:
            return allow(f"{side.code} is a party in the operator's region")
    return deny("the recognition is not the caller's", hide=True)


def can_decide_recognition(actor: Actor, destination: Target) -> Decision:
    """Operators of the destination's region decide; nobody else sees the queue item to decide."""
    if actor.kind is not ClientKind.OPERATOR:
        return deny(f"only an operator of {destination.code}'s region decides", hide=True)
    return _in_region(actor, destination, DECIDE_SCOPE, "decide recognitions into it", hide=True)


# peered hubs


def may_manage_peers(actor: Actor) -> Decision:
    """Registering, listing, suspending and removing peered hubs: federation administrators only
    (each hub's administrators register the other side on their own hub)."""
    return _admin(actor, "manage peered hubs")


# tokens


def can_introspect(actor: Actor, token_client_id: str) -> Decision:
    """A client introspects its own tokens; an administrator any."""
    if actor.client_id == token_client_id:
        return allow("a client introspects its own tokens")
    return _admin(actor, "introspect another client's token")


# witnessing other hubs' logs


def can_manage_witness(actor: Actor) -> Decision:
    """Which logs this hub witnesses (their origins and keys), and acknowledging a witness alarm:
    administrators only."""
    return _admin(actor, "manage the logs this hub witnesses and acknowledge its alarms")
