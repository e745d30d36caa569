"""Webhook deliveries: a platform sees its own; an operator re-sends dead ones."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query

from hub.auth.principal import CurrentPrincipal, Principal, require
from hub.auth.signing import SignedRequestDep
from hub.deps import SessionDep
from hub.log.changes import event_id
from hub.log.models import WebhookDelivery
from hub.log.repository import LogRepository
from hub.problems import NotFound
from schemas.canonical import MAX_SAFE_INTEGER

router = APIRouter(prefix="/v1/webhooks", tags=["events"])
Manager = Annotated[Principal, Depends(require("platforms:manage"))]


def delivery_record(delivery: WebhookDelivery) -> dict[str, Any]:
    return {
        "event_id": event_id(delivery.index),
        "log_index": delivery.index,
        "platform": delivery.platform_code,
        "url": delivery.url,
        "status": delivery.status,
        "attempts": delivery.attempts,
        "next_attempt_at": delivery.next_attempt_at.isoformat(),
        "last_error": delivery.last_error,
        "delivered_at": delivery.delivered_at.isoformat() if delivery.delivered_at else None,
    }


@router.get("/deliveries", summary="Webhook deliveries: a platform's own, or (operators) any")
def deliveries(
    session: SessionDep,
    principal: CurrentPrincipal,
    status: Annotated[str | None, Query(pattern="^(pending|delivered|dead)$")] = None,
    platform: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[dict[str, Any]]:
    if "platforms:manage" not in principal.scopes:
        platform = principal.platform_code
        if platform is None:
            return []
    return [delivery_record(d) for d in LogRepository(session).deliveries(platform, status, limit)]


@router.post("/deliveries/{index}/{platform}/redeliver", summary="Re-send a delivery (operators)")
def redeliver(
    index: Annotated[int, Path(ge=0, le=MAX_SAFE_INTEGER)],
    platform: str,
    session: SessionDep,
    principal: Manager,
    signed: SignedRequestDep,
) -> dict[str, Any]:
    delivery = LogRepository(session).delivery(index, platform)
    if delivery is None:
        raise NotFound(f"no delivery of event {index} to {platform}")
    delivery.status, delivery.attempts, delivery.last_error = "pending", 0, None
    delivery.next_attempt_at = datetime.now(UTC)
    session.add(delivery)
    session.flush()
    return delivery_record(delivery)
