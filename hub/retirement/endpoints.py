"""``POST /v1/retirements``: the holder retires serials for a purpose; final."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Response, status

from hub.auth.principal import Forbidden, Principal, require
from hub.auth.signing import SignedRequestDep
from hub.deprecation import announce
from hub.deps import SessionDep
from hub.retirement.public import RetirementPublic
from hub.retirement.service import RetirementService
from mutual_recognition.vocabulary import current_form

router = APIRouter(prefix="/v1/retirements", tags=["retirement"])
Writer = Annotated[Principal, Depends(require("blocks:write"))]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Retire serials for a purpose (final)",
    response_model_exclude_none=True,
)
def retire(
    request: Annotated[
        dict[str, Any], Body(description="A retirement record without retired_at and origin_notified.")
    ],
    response: Response,
    session: SessionDep,
    principal: Writer,
    signed: SignedRequestDep,
) -> RetirementPublic:
    if principal.platform_code is None:
        raise Forbidden("only a platform retires what it holds", scope="blocks:write")
    retired = RetirementService(session).retire(
        request, sender=principal.platform_code, actor=principal.client_id
    )
    announce(response, current_form("retirement", request))
    return RetirementPublic.model_validate(retired)
