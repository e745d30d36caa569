"""What the recognition routes answer, typed (the OpenAPI document gives clients these shapes)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field

from hub.crosshub.public import HubSignature
from hub.recognition.models import Recognition
from hub.records import Public, record_schema
from hub.standards.public import BlockEvaluation, CheckResult, RulesetRef
from mutual_recognition.recognition_states import RecognitionState

RecognitionRequest = Annotated[dict[str, Any], record_schema("recognition-request")]
RecognitionCertificate = Annotated[dict[str, Any], record_schema("recognition-certificate")]


class Evaluation(Public):
    ruleset: RulesetRef
    on_date: str
    blocks: list[BlockEvaluation]


class Approval(Public):
    operator: str
    reason: str
    at: str = Field(description="When (RFC 3339).")


class RecognitionPublic(Public):
    """A recognition: what was asked, how the ruleset evaluated it, who decided, its certificate."""

    id: str
    request_id: str
    origin: str
    destination: str
    purpose: str
    status: RecognitionState
    quantity: int = Field(description="Tonnes asked for.")
    converted_quantity: int | None = Field(description="Tonnes recognized at the destination.")
    evaluation: Evaluation | None = Field(description="None only for a recognition stored without one.")
    checks: list[CheckResult]
    approvals: list[Approval]
    decision_reason: str | None
    request: RecognitionRequest
    certificate_id: str | None
    used_by: str | None = Field(description="The transfer or retirement that used the certificate.")


class CertificatePublic(Public):
    """A recognition certificate and its compact JWS (verify offline: ``puhui certificates verify``).

    ``jws`` is the issuing hub's signature. ``signatures`` lists every hub's: the issuer's, and for
    a recognition across peered hubs the origin hub's countersignature over the same canonical
    certificate, each with the index of the entry anchoring it in that hub's log."""

    certificate: RecognitionCertificate
    jws: str
    signatures: list[HubSignature] = Field(default_factory=list)


def recognition_public(item: Recognition) -> RecognitionPublic:
    return RecognitionPublic(
        id=item.id,
        request_id=item.request_id,
        origin=item.origin,
        destination=item.destination,
        purpose=item.purpose,
        status=RecognitionState(item.status),
        quantity=item.quantity,
        converted_quantity=item.converted_quantity,
        evaluation=Evaluation.model_validate(item.evaluation) if item.evaluation else None,
        checks=item.checks,
        approvals=[Approval.model_validate(a) for a in item.approvals],
        decision_reason=item.decision_reason,
        request=item.request,
        certificate_id=item.certificate["certificate_id"] if item.certificate else None,
        used_by=item.used_by,
    )


def certificate_public(
    certificate: dict[str, Any], jws: str, signatures: list[dict[str, Any]] | None = None
) -> CertificatePublic:
    return CertificatePublic(
        certificate=certificate,
        jws=jws,
        signatures=[HubSignature.model_validate(s) for s in signatures or []],
    )
