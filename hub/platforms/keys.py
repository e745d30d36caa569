"""A platform's keys: rotated by the platform under one of its current keys, or replaced by an
override that two distinct federation administrators make.

Which replaced keys keep working for the grace period (``previous_jwks``):

- a rotation by the platform keeps the keys it replaces for the grace period, so that in-flight
  clients are not cut off — except keys that were forced in by an override (an emergency key set
  is not honoured beyond the platform's own next rotation), and except when the rotation restores a
  key of the previous set: rolling back says the set being left is unwanted, and it gets no grace;
- the keys that were in their grace period are dropped by every rotation (never carried further);
- an override keeps nothing: it exists because the platform's keys are lost or compromised, so the
  old keys stop at once and every outstanding token of the platform is revoked.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmodel import Session

from hub.auth.actors import enforce, target
from hub.auth.policy import Actor, can_approve_key_override, can_rotate_keys
from hub.auth.repository import AuthRepository
from hub.dates import aware
from hub.log.changes import record_change
from hub.platforms.models import KeyOverride, KeyOverrideStatus, Platform
from hub.platforms.repository import PlatformRepository
from hub.platforms.service import PlatformService, checked_jwks
from hub.problems import Conflict, NotFound

OVERRIDE_LIFETIME = timedelta(hours=24)


def kids(jwks: dict[str, Any] | None) -> set[str]:
    return {str(key.get("kid")) for key in (jwks or {}).get("keys", []) if isinstance(key, dict)}


def grace_keys(
    current: dict[str, Any], previous: dict[str, Any] | None, forced: bool, new: dict[str, Any]
) -> list[dict[str, Any]]:
    """The keys of ``current`` a rotation to ``new`` keeps for the grace period, given the set in
    its grace period now (``previous``) and whether ``current`` was forced in by an override."""
    new_kids = kids(new)
    if forced or new_kids & kids(previous):
        return []
    return [key for key in current.get("keys", []) if key.get("kid") not in new_kids]


class KeyService:
    def __init__(self, session: Session) -> None:
        self.session = session
        self.platforms = PlatformRepository(session)
        self.service = PlatformService(session)

    def rotate(
        self, code: str, jwks: Any, grace: timedelta, *, actor: Actor, signing_kid: str | None
    ) -> Platform:
        """The platform replaces its keys by a request signed with ``signing_kid``, which must be one
        of its current keys when its row is locked (two racing rotations cannot both pass)."""
        platform = self.service.get_for_update(code)
        enforce(can_rotate_keys(actor, target(platform), signing_kid, kids(platform.jwks)))
        new = checked_jwks(jwks)
        now = datetime.now(UTC)
        kept = grace_keys(platform.jwks, platform.previous_jwks, platform.jwks_forced, new)
        platform.previous_jwks = {"keys": kept} if kept else None
        platform.previous_jwks_until = now + grace if kept else None
        platform.jwks, platform.jwks_forced, platform.updated_at = new, False, now
        self.platforms.add(platform)
        record_change(
            self.session, "platform.keys_rotated", subject=("platform", code), actor=actor.client_id,
            platforms=[code], data={
                "kids": sorted(kids(new)), "signed_with": signing_kid,
                "grace_kids": sorted(kids(platform.previous_jwks)),
                "previous_valid_until": (now + grace).isoformat() if kept else None,
            },
        )  # fmt: skip
        return platform

    def propose_override(self, code: str, jwks: Any, reason: str, *, actor: Actor) -> KeyOverride:
        """The first administrator's half of an override: a pending record, logged."""
        self.service.get(code)
        new = checked_jwks(jwks, "/jwks")
        now = datetime.now(UTC)
        override = self.platforms.add_override(
            KeyOverride(
                id=str(uuid.uuid4()), platform_code=code, jwks=new, reason=reason,
                proposed_by=actor.client_id, proposed_at=now, expires_at=now + OVERRIDE_LIFETIME,
            )
        )  # fmt: skip
        record_change(
            self.session, "platform.key_override_proposed", subject=("platform", code),
            actor=actor.client_id, platforms=[code],
            data={"override": override.id, "kids": sorted(kids(new)), "reason": reason},
        )  # fmt: skip
        return override

    def approve_override(self, code: str, override_id: str, *, actor: Actor) -> KeyOverride:
        """The second administrator's half: the keys are replaced at once, nothing old is kept,
        the new set is marked forced, and every outstanding token of the platform is revoked."""
        platform = self.service.get_for_update(code)
        override = self.platforms.override(code, override_id, for_update=True)
        if override is None:
            raise NotFound(f"no key override {override_id} for {code}")
        enforce(can_approve_key_override(actor, target(platform), override.proposed_by))
        now = datetime.now(UTC)
        if override.status != KeyOverrideStatus.PENDING:
            raise Conflict(f"key override {override_id} is already {override.status}", code="2013")
        if aware(override.expires_at) <= now:
            raise Conflict(f"key override {override_id} expired at {override.expires_at}", code="2013")
        override.status, override.approved_by, override.approved_at = (
            KeyOverrideStatus.APPLIED,
            actor.client_id,
            now,
        )
        self.platforms.add_override(override)
        platform.jwks, platform.jwks_forced, platform.updated_at = override.jwks, True, now
        platform.previous_jwks, platform.previous_jwks_until = None, None
        self.platforms.add(platform)
        revoked = AuthRepository(self.session).revoke_platform_tokens(code, now)
        record_change(
            self.session, "platform.keys_overridden", subject=("platform", code), actor=actor.client_id,
            platforms=[code], data={
                "override": override.id, "kids": sorted(kids(override.jwks)), "reason": override.reason,
                "proposed_by": override.proposed_by, "approved_by": actor.client_id,
                "tokens_revoked": revoked,
            },
        )  # fmt: skip
        return override

    def overrides(self, code: str) -> Sequence[KeyOverride]:
        self.service.get(code)
        return self.platforms.overrides(code)
