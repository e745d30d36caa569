"""``POST /v1/retirements``: the holder retires serials for a purpose; final. ``GET
/v1/retirements/{retirement_id}``: the retirement as stored, ``origin_notified`` true once every
origin platform acknowledged its notice (docs/platform-api.md)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Response, status

from hub.auth.principal import CurrentPrincipal, Forbidden, Principal, require
from hub.auth.signing import SignedRequestDep
from hub.deprecation import announce
from hub.deps import SessionDep
from hub.idempotency.route import idempotent
from hub.problems import NotFound
from hub.retirement.public import RetirementPublic
from hub.retirement.service import RetirementService
from mutual_recognition.vocabulary import current_form

router = APIRouter(prefix="/v1/retirements", tags=["retirement"])
Writer = Annotated[Principal, Depends(require("blocks:write"))]


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Retire serials for a purpose (final)",
    description=(
        "Answers at once. `origin_notified` is true when the retiring platform is the only origin of "
        "the serials; otherwise false until every other origin platform acknowledged the retirement "
        "notice the hub sends it afterwards (see `GET /v1/retirements/{retirement_id}`)."
    ),
    response_model_exclude_none=True,
)
@idempotent
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


@router.get(
    "/{retirement_id}",
    summary="A retirement, with whether its origins acknowledged the notice",
    response_model_exclude_none=True,
)
def get(retirement_id: str, session: SessionDep, principal: CurrentPrincipal) -> RetirementPublic:
    found = (
        RetirementService(session).get(principal.platform_code, retirement_id)
        if principal.platform_code is not None
        else None
    )
    if found is None:
        raise NotFound(f"no retirement {retirement_id} of this platform")
    return RetirementPublic.model_validate(found)
