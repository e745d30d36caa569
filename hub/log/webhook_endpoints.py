"""Webhook deliveries: a platform sees its own, an operator its region's (and re-sends dead ones),
an administrator any."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query
from sqlmodel import Session

from hub.auth.actors import CurrentActor, enforce, target_of
from hub.auth.policy import Actor, Target, can_read_deliveries, can_redeliver
from hub.auth.scopes import ClientKind
from hub.auth.signing import SignedRequestDep
from hub.deps import SessionDep
from hub.idempotency.route import idempotent
from hub.log.changes import event_id
from hub.log.public import DeliveryPublic, delivery_public
from hub.log.repository import LogRepository
from hub.platforms.repository import PlatformRepository
from hub.problems import NotFound
from schemas.canonical import MAX_SAFE_INTEGER

router = APIRouter(prefix="/v1/webhooks", tags=["events"])


def _readable(session: Session, actor: Actor, platform: str | None) -> list[str] | None:
    """The platforms whose deliveries ``actor`` lists (None: every one): ``platform`` if named and
    permitted (else a refusal), or all those the policy lets it read."""
    if platform is not None:
        enforce(can_read_deliveries(actor, target_of(session, platform)))
        return [platform]
    if actor.kind is ClientKind.ADMIN:
        enforce(can_read_deliveries(actor, Target(code="*", region="")))
        return None
    repository = PlatformRepository(session)
    region = repository.codes_in_region(actor.home_region) if actor.home_region else []
    candidates = {*region, *([actor.home] if actor.home else [])}
    return sorted(code for code in candidates if can_read_deliveries(actor, target_of(session, code)))


@router.get(
    "/deliveries",
    summary="Webhook deliveries: a platform's own; an operator's region's; (administrators) any",
)
def deliveries(
    session: SessionDep,
    actor: CurrentActor,
    status: Annotated[str | None, Query(pattern="^(pending|delivered|dead)$")] = None,
    platform: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[DeliveryPublic]:
    readable = _readable(session, actor, platform)
    return [
        delivery_public(d, event_id(d.index))
        for d in LogRepository(session).deliveries(readable, status, limit)
    ]


@router.post(
    "/deliveries/{index}/{platform}/redeliver",
    summary="Re-send a delivery (operators of the region, administrators)",
)
@idempotent
def redeliver(
    index: Annotated[int, Path(ge=0, le=MAX_SAFE_INTEGER)],
    platform: str,
    session: SessionDep,
    actor: CurrentActor,
    signed: SignedRequestDep,
) -> DeliveryPublic:
    enforce(can_redeliver(actor, target_of(session, platform)))
    delivery = LogRepository(session).delivery(index, platform)
    if delivery is None:
        raise NotFound(f"no delivery of event {index} to {platform}")
    delivery.status, delivery.attempts, delivery.last_error = "pending", 0, None
    delivery.next_attempt_at = datetime.now(UTC)
    session.add(delivery)
    session.flush()
    return delivery_public(delivery, event_id(delivery.index))
