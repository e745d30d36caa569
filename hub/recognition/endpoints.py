"""Recognition over HTTP: the origin platform asks, the destination's operators decide."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, status
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session

from hub.auth.actors import CurrentActor, enforce, target_of
from hub.auth.policy import Actor, can_decide_recognition, can_read_recognition
from hub.auth.principal import Forbidden, Principal, require
from hub.auth.scopes import ClientKind
from hub.auth.signing import SignedRequestDep
from hub.crosshub.outbound import issuer_signature
from hub.crosshub.repository import CrossHubRepository
from hub.deps import KeyStoreDep, SessionDep, SettingsDep
from hub.idempotency.route import idempotent
from hub.platforms.repository import PlatformRepository
from hub.problems import NotFound
from hub.recognition.models import Recognition
from hub.recognition.public import (
    CertificatePublic,
    RecognitionPublic,
    certificate_public,
    recognition_public,
)
from hub.recognition.repository import RecognitionRepository
from hub.recognition.service import REASON_MAX_LENGTH, REASON_MIN_LENGTH, RecognitionService
from hub.recognition.use import Certificates
from hub.text import Integer, Text
from schemas.canonical import MAX_SAFE_INTEGER

router = APIRouter(prefix="/v1/recognitions", tags=["recognition"])
Requester = Annotated[Principal, Depends(require("recognitions:request"))]


class Selection(BaseModel):
    model_config = ConfigDict(extra="forbid")

    quantity: Integer = Field(
        ge=1, le=MAX_SAFE_INTEGER, description="Tonnes to recognize; the hub picks the sender's held serials."
    )
    catalogue_id: Text | None = Field(default=None, description="Only blocks of this methodology.")


class RecognitionSubmission(BaseModel):
    model_config = ConfigDict(extra="forbid")

    request: dict[str, Any] = Field(
        description="A recognition-request exchange record; `select` fills in its blocks and quantity."
    )
    select: Selection | None = Field(default=None, description="Ask for a quantity instead of naming blocks.")
    verified_emissions: Integer | None = Field(
        default=None,
        ge=0,
        le=MAX_SAFE_INTEGER,
        description="ETS compliance: the covered entity's verified emissions (t), for purpose limits.",
    )


class Decision(BaseModel):
    model_config = ConfigDict(extra="forbid")

    decision: Literal["approve", "reject"]
    reason: Text = Field(min_length=REASON_MIN_LENGTH, max_length=REASON_MAX_LENGTH)


def _visible(item: Recognition, actor: Actor, session: Session) -> bool:
    origin, destination = target_of(session, item.origin), target_of(session, item.destination)
    return bool(can_read_recognition(actor, origin, destination))


@router.post("", status_code=status.HTTP_201_CREATED, summary="Ask for recognition (origin platform)")
@idempotent
def submit(
    body: RecognitionSubmission, session: SessionDep, settings: SettingsDep, keystore: KeyStoreDep,
    principal: Requester, signed: SignedRequestDep,
) -> RecognitionPublic:  # fmt: skip
    if principal.platform_code is None:
        raise Forbidden("only a platform asks for recognition of its credits", scope="recognitions:request")
    service = RecognitionService(session, settings, keystore)
    request = body.request
    if body.select is not None:
        blocks = service.select(principal.platform_code, body.select.quantity, body.select.catalogue_id)
        request = {**request, "blocks": blocks, "quantity": body.select.quantity, "unit": "tCO2e"}
    created = service.submit(
        request,
        sender=principal.platform_code,
        actor=principal.client_id,
        verified_emissions=body.verified_emissions,
    )
    return recognition_public(created)


@router.get("", summary="Recognitions the caller asked for, or (operators) its region's queue")
def listing(
    session: SessionDep, actor: CurrentActor, status_filter: str | None = None
) -> list[RecognitionPublic]:
    if actor.home is None:
        return []
    codes = {actor.home}
    if actor.kind is ClientKind.OPERATOR and actor.home_region is not None:
        codes.update(PlatformRepository(session).codes_in_region(actor.home_region))
    return [recognition_public(r) for r in RecognitionRepository(session).involving(codes, status_filter)]


@router.get("/{recognition_id}", summary="One recognition with its evaluation and checks")
def get(
    recognition_id: str,
    session: SessionDep,
    settings: SettingsDep,
    keystore: KeyStoreDep,
    actor: CurrentActor,
) -> RecognitionPublic:
    item = RecognitionService(session, settings, keystore).get(recognition_id)
    if not _visible(item, actor, session):
        raise NotFound(f"no recognition {recognition_id}")
    return recognition_public(item)


@router.post(
    "/{recognition_id}/decision", summary="Approve or reject (operators of the destination's region)"
)
@idempotent
def decide(
    recognition_id: str, body: Decision, session: SessionDep, settings: SettingsDep, keystore: KeyStoreDep,
    actor: CurrentActor, signed: SignedRequestDep,
) -> RecognitionPublic:  # fmt: skip
    service = RecognitionService(session, settings, keystore)
    item = service.get(recognition_id, for_update=True)
    decision = can_decide_recognition(actor, target_of(session, item.destination))
    enforce(decision, not_found=f"no recognition {recognition_id} in the queue of {actor.home}")
    decided = service.decide(
        item, operator=actor.client_id, approve=body.decision == "approve", reason=body.reason
    )
    return recognition_public(decided)


class Withdrawal(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Text = Field(min_length=REASON_MIN_LENGTH, max_length=REASON_MAX_LENGTH)


@router.post(
    "/{recognition_id}/withdraw",
    summary="Withdraw an approved, unused certificate (origin platform): its serials are free again",
)
@idempotent
def withdraw(
    recognition_id: str, body: Withdrawal, session: SessionDep, settings: SettingsDep, keystore: KeyStoreDep,
    principal: Requester, signed: SignedRequestDep,
) -> RecognitionPublic:  # fmt: skip
    item = RecognitionService(session, settings, keystore).get(recognition_id)
    if principal.platform_code is None or principal.platform_code != item.origin:
        raise NotFound(f"no recognition {recognition_id} asked by {principal.platform_code}")
    return recognition_public(
        Certificates(session).withdraw(item, actor=principal.client_id, reason=body.reason)
    )


@router.get("/{recognition_id}/certificate", summary="The signed recognition certificate")
def certificate(
    recognition_id: str,
    session: SessionDep,
    settings: SettingsDep,
    keystore: KeyStoreDep,
    actor: CurrentActor,
) -> CertificatePublic:
    item = RecognitionService(session, settings, keystore).get(recognition_id)
    if not _visible(item, actor, session) or item.certificate is None:
        raise NotFound(f"no certificate for recognition {recognition_id}")
    across = CrossHubRepository(session).federated(item.id)
    signatures = across.signatures if across and across.signatures else [issuer_signature(settings, item)]
    return certificate_public(item.certificate, item.certificate_jws or "", signatures)
