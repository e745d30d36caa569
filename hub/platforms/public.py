"""What the platform directory's routes answer, typed."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from hub.dates import aware
from hub.platforms.keys import kids
from hub.platforms.models import KeyOverride, KeyOverrideStatus
from hub.records import Public, record_schema

PlatformRecord = Annotated[dict[str, Any], record_schema("platform")]


class KeyOverridePublic(Public):
    """An administrator's proposal to replace a platform's keys (a second one approves it)."""

    id: str
    platform: str
    status: KeyOverrideStatus
    kids: list[str] = Field(description="The key ids (RFC 7638 thumbprints) of the proposed keys.")
    reason: str
    proposed_by: str
    proposed_at: str
    expires_at: str
    approved_by: str | None
    approved_at: str | None


def key_override_public(override: KeyOverride) -> KeyOverridePublic:
    return KeyOverridePublic(
        id=override.id,
        platform=override.platform_code,
        status=KeyOverrideStatus(override.status),
        kids=sorted(kids(override.jwks)),
        reason=override.reason,
        proposed_by=override.proposed_by,
        proposed_at=aware(override.proposed_at).isoformat(),
        expires_at=aware(override.expires_at).isoformat(),
        approved_by=override.approved_by,
        approved_at=aware(override.approved_at).isoformat() if override.approved_at else None,
    )
