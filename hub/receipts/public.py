"""What the receipts routes answer, typed."""

from __future__ import annotations

import base64

from pydantic import Field

from hub.auth.models import SignedRequest
from hub.records import Public


class ReceiptPublic(Public):
    """A signed request exactly as the hub received and stored it."""

    id: str = Field(description="The receipt id (the Puhui-Receipt header of the answer).")
    client_id: str
    platform: str | None
    method: str
    path: str
    content_type: str | None
    body_base64: str = Field(description="The body bytes as received, base64.")
    signature: str = Field(description="The detached JWS of the Puhui-Signature header.")
    kid: str
    jti: str
    issued_at: str
    received_at: str


def receipt_public(record: SignedRequest) -> ReceiptPublic:
    return ReceiptPublic(
        id=record.id,
        client_id=record.client_id,
        platform=record.platform_code,
        method=record.method,
        path=record.path,
        content_type=record.content_type,
        body_base64=base64.b64encode(record.body).decode("ascii"),
        signature=record.jws,
        kid=record.kid,
        jti=record.jti,
        issued_at=record.issued_at.isoformat(),
        received_at=record.received_at.isoformat(),
    )
