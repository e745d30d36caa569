"""The federation's platform directory and its management."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, status
from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field

from hub.auth.principal import CurrentPrincipal, Forbidden, Principal, require
from hub.auth.signing import SignedRequestDep
from hub.deps import SessionDep, SettingsDep
from hub.platforms.models import PlatformCreate, PlatformStatus
from hub.platforms.records import platform_record
from hub.platforms.service import PlatformService, checked_jwks

router = APIRouter(prefix="/v1/platforms", tags=["platforms"])

Manager = Annotated[Principal, Depends(require("platforms:manage"))]


@router.get("", summary="List the federation's platforms (exchange schema: platform)")
def list_platforms(session: SessionDep, principal: CurrentPrincipal) -> list[dict[str, Any]]:
    return [platform_record(p) for p in PlatformService(session).list()]


@router.get("/{code}", summary="One platform (exchange schema: platform)")
def get_platform(code: str, session: SessionDep, principal: CurrentPrincipal) -> dict[str, Any]:
    return platform_record(PlatformService(session).get(code))


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Register a platform (operators: platforms:manage)",
)
def register_platform(
    data: PlatformCreate, session: SessionDep, principal: Manager, signed: SignedRequestDep
) -> dict[str, Any]:
    if data.jwks.get("keys"):
        data.jwks = checked_jwks(data.jwks, "/jwks")
    return platform_record(PlatformService(session).register(data, actor=principal.client_id))


@router.put(
    "/{code}/jwks",
    summary="Rotate a platform's keys: the new ones work at once, the old ones for a grace period",
)
def rotate_jwks(
    code: str,
    jwks: Annotated[dict[str, Any], Body()],
    session: SessionDep,
    settings: SettingsDep,
    principal: CurrentPrincipal,
    signed: SignedRequestDep,
) -> dict[str, Any]:
    if principal.platform_code != code and "platforms:manage" not in principal.scopes:
        raise Forbidden(f"only {code} itself or an operator may rotate its keys", scope="platforms:manage")
    grace = timedelta(seconds=settings.key_grace_period)
    return platform_record(PlatformService(session).rotate_jwks(code, jwks, grace, actor=principal.client_id))


class WebhookTarget(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: AnyHttpUrl | None = Field(description="Where events are delivered; null to stop.")


@router.put("/{code}/webhook", summary="Where a platform's events are delivered (itself or an operator)")
def set_webhook(
    code: str,
    target: WebhookTarget,
    session: SessionDep,
    principal: CurrentPrincipal,
    signed: SignedRequestDep,
) -> dict[str, Any]:
    if principal.platform_code != code and "platforms:manage" not in principal.scopes:
        raise Forbidden(f"only {code} itself or an operator may set its webhook", scope="platforms:manage")
    url = str(target.url) if target.url is not None else None
    return platform_record(PlatformService(session).set_webhook(code, url, actor=principal.client_id))


@router.post("/{code}/suspend", summary="Suspend a platform: its tokens stop working at once")
def suspend(code: str, session: SessionDep, principal: Manager, signed: SignedRequestDep) -> dict[str, Any]:
    return platform_record(
        PlatformService(session).set_status(code, PlatformStatus.SUSPENDED, actor=principal.client_id)
    )


@router.post("/{code}/reactivate", summary="Reactivate a suspended platform")
def reactivate(
    code: str, session: SessionDep, principal: Manager, signed: SignedRequestDep
) -> dict[str, Any]:
    return platform_record(
        PlatformService(session).set_status(code, PlatformStatus.ACTIVE, actor=principal.client_id)
    )
