"""A client reads the receipts of its own platform's signed requests; no one else's."""

from __future__ import annotations

import base64
from typing import Annotated, Any

from fastapi import APIRouter, Query

from hub.auth.models import SignedRequest
from hub.auth.principal import CurrentPrincipal, Principal
from hub.auth.repository import AuthRepository
from hub.deps import SessionDep
from hub.problems import NotFound

router = APIRouter(prefix="/v1/receipts", tags=["receipts"])


def _visible(record: SignedRequest, principal: Principal) -> bool:
    return record.client_id == principal.client_id or principal.owns(record.platform_code)


def receipt(record: SignedRequest) -> dict[str, Any]:
    return {
        "id": record.id,
        "client_id": record.client_id,
        "platform": record.platform_code,
        "method": record.method,
        "path": record.path,
        "content_type": record.content_type,
        "body_base64": base64.b64encode(record.body).decode("ascii"),
        "signature": record.jws,
        "kid": record.kid,
        "jti": record.jti,
        "issued_at": record.issued_at.isoformat(),
        "received_at": record.received_at.isoformat(),
    }


@router.get("", summary="Receipts of the caller's platform, newest first")
def list_receipts(
    session: SessionDep,
    principal: CurrentPrincipal,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[dict[str, Any]]:
    scope = principal.platform_code or principal.region
    if scope is None:
        return []
    return [receipt(r) for r in AuthRepository(session).signed_requests(scope, limit)]


@router.get("/{receipt_id}", summary="One receipt: the signed bytes as received")
def get_receipt(receipt_id: str, session: SessionDep, principal: CurrentPrincipal) -> dict[str, Any]:
    record = AuthRepository(session).signed_request(receipt_id)
    if record is None or not _visible(record, principal):
        raise NotFound(f"no receipt {receipt_id}")
    return receipt(record)
