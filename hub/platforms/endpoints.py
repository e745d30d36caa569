"""The public directory of the federation's platforms."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from hub.deps import SessionDep
from hub.platforms.records import platform_record
from hub.platforms.service import PlatformService

router = APIRouter(prefix="/v1/platforms", tags=["platforms"])


@router.get("", summary="List the federation's platforms (exchange schema: platform)")
def list_platforms(session: SessionDep) -> list[dict[str, Any]]:
    return [platform_record(p) for p in PlatformService(session).list()]


@router.get("/{code}", summary="One platform (exchange schema: platform)")
def get_platform(code: str, session: SessionDep) -> dict[str, Any]:
    return platform_record(PlatformService(session).get(code))
