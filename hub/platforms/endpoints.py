"""The federation's platform directory and its management. Who may do what is decided by
``hub.auth.policy``; these routes load the platform, ask the policy, and call the services."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Body, status
from pydantic import BaseModel, ConfigDict, Field

from hub.auth.actors import CurrentActor, enforce, target
from hub.auth.policy import (
    can_propose_key_override,
    can_reactivate,
    can_register_platform,
    can_set_webhook,
    can_suspend,
)
from hub.auth.principal import CurrentPrincipal
from hub.auth.signing import SignedRequestDep
from hub.deps import SessionDep, SettingsDep
from hub.idempotency.route import idempotent
from hub.platforms.keys import KeyService
from hub.platforms.models import PlatformCreate, PlatformStatus
from hub.platforms.public import KeyOverridePublic, PlatformRecord, key_override_public
from hub.platforms.records import platform_record
from hub.platforms.service import PlatformService, checked_jwks
from hub.problems import SchemaViolation
from hub.receivers import not_public
from hub.text import StoredUrl, Text

router = APIRouter(prefix="/v1/platforms", tags=["platforms"])


@router.get("", summary="List the federation's platforms (exchange schema: platform)")
def list_platforms(session: SessionDep, principal: CurrentPrincipal) -> list[PlatformRecord]:
    return [platform_record(p) for p in PlatformService(session).list()]


@router.get("/{code}", summary="One platform (exchange schema: platform)")
def get_platform(code: str, session: SessionDep, principal: CurrentPrincipal) -> PlatformRecord:
    return platform_record(PlatformService(session).get(code))


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Register a platform (federation administrators)",
)
@idempotent
def register_platform(
    data: PlatformCreate, session: SessionDep, actor: CurrentActor, signed: SignedRequestDep
) -> PlatformRecord:
    enforce(can_register_platform(actor))
    if data.jwks.get("keys"):
        data.jwks = checked_jwks(data.jwks, "/jwks")
    return platform_record(PlatformService(session).register(data, actor=actor.client_id))


@router.put(
    "/{code}/jwks",
    summary="Rotate a platform's keys (the platform itself, signed with a current key): the new ones "
    "work at once, the replaced ones for a grace period",
)
@idempotent
def rotate_jwks(
    code: str,
    jwks: Annotated[dict[str, Any], Body()],
    session: SessionDep,
    settings: SettingsDep,
    actor: CurrentActor,
    signed: SignedRequestDep,
) -> PlatformRecord:
    grace = timedelta(seconds=settings.key_grace_period)
    kid = signed.kid if signed is not None else None
    return platform_record(KeyService(session).rotate(code, jwks, grace, actor=actor, signing_kid=kid))


class OverrideProposal(BaseModel):
    model_config = ConfigDict(extra="forbid")

    jwks: dict[str, Any] = Field(description="The platform's new public keys (a JWK Set).")
    reason: Text = Field(min_length=3, max_length=2000, description="Why the platform cannot rotate itself.")


@router.post(
    "/{code}/key-overrides",
    status_code=status.HTTP_201_CREATED,
    summary="Propose replacing a platform's keys (an administrator; a second one must approve)",
)
@idempotent
def propose_key_override(
    code: str, body: OverrideProposal, session: SessionDep, actor: CurrentActor, signed: SignedRequestDep
) -> KeyOverridePublic:
    enforce(can_propose_key_override(actor, target(PlatformService(session).get(code))))
    return key_override_public(
        KeyService(session).propose_override(code, body.jwks, body.reason, actor=actor)
    )


@router.get("/{code}/key-overrides", summary="A platform's key overrides (administrators)")
def key_overrides(code: str, session: SessionDep, actor: CurrentActor) -> list[KeyOverridePublic]:
    enforce(can_propose_key_override(actor, target(PlatformService(session).get(code))))
    return [key_override_public(o) for o in KeyService(session).overrides(code)]


@router.post(
    "/{code}/key-overrides/{override_id}/approve",
    summary="Approve a key override (a second administrator): the keys are replaced at once, the old "
    "ones and every outstanding token of the platform stop",
)
@idempotent
def approve_key_override(
    code: str, override_id: str, session: SessionDep, actor: CurrentActor, signed: SignedRequestDep
) -> KeyOverridePublic:
    return key_override_public(KeyService(session).approve_override(code, override_id, actor=actor))


class WebhookTarget(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: StoredUrl | None = Field(
        description="Where events are delivered (at most 500 characters once normalized); null to stop."
    )


@router.put("/{code}/webhook", summary="Where a platform's events are delivered (itself or an administrator)")
@idempotent
def set_webhook(
    code: str,
    body: WebhookTarget,
    session: SessionDep,
    settings: SettingsDep,
    actor: CurrentActor,
    signed: SignedRequestDep,
) -> PlatformRecord:
    service = PlatformService(session)
    enforce(can_set_webhook(actor, target(service.get(code))))
    url = str(body.url) if body.url is not None else None
    why = None if url is None or settings.private_receivers_allowed else not_public(url)
    if why is not None:
        raise SchemaViolation(
            f"the hub sends webhooks to public addresses only: {why}",
            code="1002",
            errors=[{"pointer": "/url", "code": "1002", "detail": why}],
        )
    return platform_record(service.set_webhook(code, url, actor=actor.client_id))


@router.post(
    "/{code}/suspend",
    summary="Suspend a platform (administrators): its tokens are revoked, it gets no new ones",
)
@idempotent
def suspend(code: str, session: SessionDep, actor: CurrentActor, signed: SignedRequestDep) -> PlatformRecord:
    service = PlatformService(session)
    enforce(can_suspend(actor, target(service.get(code))))
    return platform_record(service.set_status(code, PlatformStatus.SUSPENDED, actor=actor.client_id))


@router.post(
    "/{code}/reactivate",
    summary="Reactivate a suspended platform (administrators): it needs new tokens",
)
@idempotent
def reactivate(
    code: str, session: SessionDep, actor: CurrentActor, signed: SignedRequestDep
) -> PlatformRecord:
    service = PlatformService(session)
    enforce(can_reactivate(actor, target(service.get(code))))
    return platform_record(service.set_status(code, PlatformStatus.ACTIVE, actor=actor.client_id))
