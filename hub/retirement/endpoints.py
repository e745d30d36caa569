"""``POST /v1/retirements``: the holder retires serials for a purpose; final."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, status

from hub.auth.principal import Forbidden, Principal, require
from hub.auth.signing import SignedRequestDep
from hub.deps import SessionDep
from hub.retirement.service import RetirementService

router = APIRouter(prefix="/v1/retirements", tags=["retirement"])
Writer = Annotated[Principal, Depends(require("blocks:write"))]


@router.post("", status_code=status.HTTP_201_CREATED, summary="Retire serials for a purpose (final)")
def retire(
    request: Annotated[
        dict[str, Any], Body(description="A retirement record without retired_at and origin_notified.")
    ],
    session: SessionDep,
    principal: Writer,
    signed: SignedRequestDep,
) -> dict[str, Any]:
    if principal.platform_code is None:
        raise Forbidden("only a platform retires what it holds", scope="blocks:write")
    return RetirementService(session).retire(
        request, sender=principal.platform_code, actor=principal.client_id
    )
