"""Registering platforms, setting their webhooks, suspending and reactivating them (their keys:
``hub.platforms.keys``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session

from hub.auth.repository import AuthRepository
from hub.log.changes import record_change
from hub.platforms.models import Platform, PlatformCreate, PlatformStatus
from hub.platforms.records import platform_record
from hub.platforms.repository import PlatformRepository
from hub.problems import BadRequest, Conflict, NotFound, SchemaViolation
from schemas import validate
from schemas.jwk import JWKError, JWKSet


def _refuse(pointer: str, detail: str) -> SchemaViolation:
    error = {"pointer": pointer, "code": "1002", "detail": detail}
    return SchemaViolation(f"{pointer or 'the body'}: {detail}", code="1002", errors=[error])


def checked_jwks(jwks: Any, pointer: str = "") -> dict[str, Any]:
    """A JWK Set of public Ed25519 keys whose kids are their thumbprints, else a 422 problem."""
    if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list):
        raise _refuse(pointer, "not a JWK Set ({'keys': [...]})")
    if any(isinstance(key, dict) and "d" in key for key in jwks["keys"]):
        raise _refuse(f"{pointer}/keys", "a JWK Set sent to the hub must not hold private keys")
    try:
        keys = JWKSet.from_dict(jwks)
    except JWKError as exc:
        raise _refuse(f"{pointer}/keys", str(exc)) from exc
    if len(keys) == 0:
        raise _refuse(f"{pointer}/keys", "the JWK Set holds no OKP/Ed25519 key")
    return keys.as_dict()


class PlatformService:
    def __init__(self, session: Session) -> None:
        self.session = session
        self.platforms = PlatformRepository(session)

    def register(self, data: PlatformCreate, *, actor: str) -> Platform:
        """Add a platform; its record must be a valid ``platform`` exchange record."""
        if self.platforms.get(data.code) is not None:
            raise Conflict(f"platform {data.code} is already registered", code="2001")
        platform = Platform.model_validate(data.model_dump())
        issues = validate("platform", platform_record(platform))
        if issues:
            raise SchemaViolation(
                f"platform {data.code} is not a valid platform record", code="1002", errors=issues
            )
        self.platforms.add(platform)
        record_change(
            self.session, "platform.registered", subject=("platform", platform.code), actor=actor,
            platforms=[platform.code], data=platform_record(platform),
        )  # fmt: skip
        return platform

    def get(self, code: str) -> Platform:
        platform = self.platforms.get(code)
        if platform is None:
            raise NotFound(f"no platform {code}", code="2002")
        return platform

    def list(self) -> Sequence[Platform]:
        return self.platforms.list()

    def is_empty(self) -> bool:
        return self.platforms.count() == 0

    def set_webhook(self, code: str, url: str | None, *, actor: str) -> Platform:
        """Where the platform's events are delivered (None: nowhere)."""
        platform = self.get(code)
        platform.webhook_url = url
        platform.updated_at = datetime.now(UTC)
        self.platforms.add(platform)
        record_change(
            self.session, "platform.webhook_set", subject=("platform", code), actor=actor,
            platforms=[code], data={"webhook_url": url},
        )  # fmt: skip
        return platform

    def get_for_update(self, code: str) -> Platform:
        platform = self.platforms.get(code, for_update=True)
        if platform is None:
            raise NotFound(f"no platform {code}", code="2002")
        return platform

    def set_status(self, code: str, status: PlatformStatus, *, actor: str) -> Platform:
        """Suspend or reactivate. Either way every outstanding token of the platform's clients is
        revoked in the same transaction: a suspension ends them for good, and a token issued while
        the suspension was being written cannot outlive the reactivation — new tokens are needed."""
        platform = self.get_for_update(code)
        if platform.status == status:
            raise BadRequest(f"platform {code} is already {status}", code="1004")
        now = datetime.now(UTC)
        platform.status = status
        platform.updated_at = now
        self.platforms.add(platform)
        revoked = AuthRepository(self.session).revoke_platform_tokens(code, now)
        what = "platform.suspended" if status is PlatformStatus.SUSPENDED else "platform.reactivated"
        record_change(
            self.session, what, subject=("platform", code), actor=actor, platforms=[code],
            data={"tokens_revoked": revoked},
        )  # fmt: skip
        return platform
