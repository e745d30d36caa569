"""A client reads the receipts of its own platform's signed requests; no one else's."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from hub.auth.models import SignedRequest
from hub.auth.principal import CurrentPrincipal, Principal
from hub.auth.repository import AuthRepository
from hub.deps import SessionDep
from hub.problems import NotFound
from hub.receipts.public import ReceiptPublic, receipt_public

router = APIRouter(prefix="/v1/receipts", tags=["receipts"])


def _visible(record: SignedRequest, principal: Principal) -> bool:
    return record.client_id == principal.client_id or principal.owns(record.platform_code)


@router.get("", summary="Receipts of the caller's platform, newest first")
def list_receipts(
    session: SessionDep,
    principal: CurrentPrincipal,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[ReceiptPublic]:
    scope = principal.platform_code or principal.region
    if scope is None:
        return []
    return [receipt_public(r) for r in AuthRepository(session).signed_requests(scope, limit)]


@router.get("/{receipt_id}", summary="One receipt: the signed bytes as received")
def get_receipt(receipt_id: str, session: SessionDep, principal: CurrentPrincipal) -> ReceiptPublic:
    record = AuthRepository(session).signed_request(receipt_id)
    if record is None or not _visible(record, principal):
        raise NotFound(f"no receipt {receipt_id}")
    return receipt_public(record)
