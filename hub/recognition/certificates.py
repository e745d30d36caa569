"""Recognition certificates: canonical JSON signed by the hub, anchored in the log.

The log entry of an approval carries the SHA-256 of the certificate *without* its ``log_index``;
the certificate then names that index and is signed (compact JWS, EdDSA, kid = thumbprint). An
auditor removes ``log_index``, hashes the canonical bytes and finds the digest at that index.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from fractions import Fraction
from typing import Any

from sqlmodel import Session

from hub.keystore import KeyStore
from hub.log.changes import append_change
from hub.recognition.models import Recognition
from schemas.canonical import canonicalize
from schemas.jws import sign_record

CERTIFICATE_TYPE = "puhui-certificate+jws"


def certificate_digest(certificate: dict[str, Any]) -> str:
    unanchored = {key: value for key, value in certificate.items() if key != "log_index"}
    return hashlib.sha256(canonicalize(unanchored)).hexdigest()


def issue_certificate(
    session: Session, recognition: Recognition, keystore: KeyStore, issuer: str, actor: str
) -> tuple[dict[str, Any], str]:
    """The certificate of an approved recognition, its log entry, and its JWS."""
    request = recognition.request
    evaluation = recognition.evaluation
    remainder = sum(
        (Fraction(d["remainder"]["numerator"], d["remainder"]["denominator"]) for d in evaluation["blocks"]),
        Fraction(0),
    )
    now = datetime.now(UTC).isoformat(timespec="seconds")
    key = keystore.active()
    certificate: dict[str, Any] = {
        "certificate_id": f"RC-{recognition.id}",
        "request_id": recognition.request_id,
        "origin_registry": recognition.origin,
        "destination_registry": recognition.destination,
        "purpose": recognition.purpose,
        "beneficiary": request["beneficiary"],
        "blocks": request["blocks"],
        "quantity": recognition.quantity,
        "unit": "tCO2e",
        "converted_quantity": recognition.converted_quantity,
        "converted_unit": "tCO2e",
        "remainder": {"numerator": remainder.numerator, "denominator": remainder.denominator},
        "destination_methodology": evaluation["blocks"][0]["destination_methodology"],
        "ruleset": evaluation["ruleset"],
        "checks_passed": sorted({check["code"] for check in recognition.checks if check["passed"]}),
        "approved_by": [approval["operator"] for approval in recognition.approvals],
        "approved_at": recognition.approvals[-1]["at"],
        "issued_at": now,
        "issuer": {"hub": issuer, "kid": key.kid},
    }
    if "compliance" in request:
        certificate["compliance"] = request["compliance"]
    index = append_change(
        session,
        "recognition.approved",
        subject=("recognition-certificate", certificate["certificate_id"]),
        actor=actor,
        platforms=[recognition.origin, recognition.destination],
        data={"recognition_id": recognition.id, "certificate_digest": certificate_digest(certificate)},
    )
    certificate["log_index"] = index
    return certificate, sign_record(certificate, key, typ=CERTIFICATE_TYPE)
