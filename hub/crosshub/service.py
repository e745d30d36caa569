"""Both ends of a cross-hub recognition.

At the destination's hub: ``receive`` checks a forwarded recognition with this hub's own rules
(its ruleset from the origin to the destination) and stores it pending review under the origin
hub's id; its operators decide it as any other (``RecognitionService.decide``, which answers the
origin's hub through the outbox). At the origin's hub: ``accepted`` and ``refused`` record the
destination's answer to the forward (a refusal releases the hold); ``complete`` takes the
decision: it verifies the destination's signature with the peer's registered keys, checks the
certificate names exactly the recognition held here, countersigns the same canonical certificate,
logs it, and completes the recognition (its serials pass to the certificate as today).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session

from hub.claims.service import Reservations
from hub.crosshub.models import FederatedRecognition, Role
from hub.crosshub.public import (
    DecisionAnswer,
    ForwardAnswer,
    ForwardedDecision,
    ForwardedRecognition,
    HubSignature,
)
from hub.crosshub.repository import CrossHubRepository
from hub.keystore import KeyStore
from hub.log.changes import append_change, record_change
from hub.peering.models import HubPeer, jwks_of
from hub.platforms.repository import PlatformRepository
from hub.problems import Conflict, HubError, NotFound, SchemaViolation
from hub.recognition.certificates import CERTIFICATE_TYPE, certificate_digest
from hub.recognition.models import Recognition
from hub.recognition.repository import RecognitionRepository
from hub.recognition.service import Candidate, RecognitionService
from hub.recognition.use import certificate_id, move
from hub.settings import Settings
from mutual_recognition.checks import CheckOutcome, registries_differ
from mutual_recognition.claims import ClaimKind
from mutual_recognition.recognition_states import OPEN, RECOGNITION, RecognitionState
from schemas import validate
from schemas.jws import JWSError, sign_record, verify_record
from schemas.validation import Issue

log = logging.getLogger("puhui.peers")


class NotDestinationHub(HubError):
    status = 403
    slug = "not-destination-hub"
    title = "The calling hub does not serve the recognition's destination"


class ForwardRefused(HubError):
    status = 422
    slug = "forward-refused"
    title = "The forwarded recognition or decision is refused; nothing was stored"


def _refused(pointer: str, code: str, detail: str) -> ForwardRefused:
    return ForwardRefused(detail, code=code, errors=[Issue(pointer, code, detail)])


def _actor(peer: HubPeer) -> str:
    return f"hub:{peer.origin}"[:64]


class CrossHubService:
    def __init__(self, session: Session, settings: Settings, keystore: KeyStore) -> None:
        self.session = session
        self.settings = settings
        self.keystore = keystore
        self.repository = CrossHubRepository(session)
        self.recognition_rows = RecognitionRepository(session)
        self.recognitions = RecognitionService(session, settings, keystore)

    # at the destination's hub

    def receive(self, peer: HubPeer, forwarded: ForwardedRecognition) -> ForwardAnswer:
        known = self.repository.federated(forwarded.recognition_id)
        if known is not None and known.role == Role.DESTINATION and known.peer_origin == peer.origin:
            return forward_answer(self.recognitions.get(forwarded.recognition_id))  # sent again, days later
        if known is not None or self.recognition_rows.get(forwarded.recognition_id) is not None:
            raise Conflict(f"recognition {forwarded.recognition_id} exists already", code="3012")
        request = forwarded.request
        issues = validate("recognition-request", request)
        if issues:
            raise SchemaViolation(
                "not a valid recognition-request",
                code=issues[0].code,
                errors=[Issue("/request" + i.pointer, i.code, i.detail) for i in issues],
            )
        origin, destination = request["origin_registry"], request["destination_registry"]
        if PlatformRepository(self.session).get(destination) is None:
            raise _refused("/request/destination_registry", "2024", f"this hub does not serve {destination}")
        if origin not in peer.registries:
            raise _refused("/request/origin_registry", "2004", f"{peer.origin} does not serve {origin}")
        candidates = self._candidates(request, forwarded)
        outcomes = [CheckOutcome(c.code, c.passed, c.detail) for c in forwarded.origin_checks]
        outcomes = [o for o in outcomes if o.code != "5011"] + [registries_differ(origin, destination)]
        evaluation, converted, outcomes = self.recognitions.evaluate_blocks(
            request, candidates, forwarded.verified_emissions, outcomes
        )
        recognition = Recognition(
            id=forwarded.recognition_id,
            request_id=request["request_id"],
            origin=origin,
            destination=destination,
            purpose=request["purpose"],
            status=str(RecognitionState.PENDING_REVIEW),
            quantity=request["quantity"],
            converted_quantity=converted,
            request=request,
            evaluation=evaluation,
            checks=[o.as_dict() for o in outcomes],
            requested_by=f"{forwarded.requested_by}@{peer.origin}"[:64],
        )
        self.session.add(recognition)
        self.repository.add(
            FederatedRecognition(
                recognition_id=recognition.id, role=Role.DESTINATION, peer_origin=peer.origin
            )
        )
        record_change(
            self.session,
            "recognition.requested",
            subject=("recognition-request", recognition.id),
            actor=_actor(peer),
            platforms=[origin, destination],
            data={
                "request_id": recognition.request_id,
                "quantity": recognition.quantity,
                "converted_quantity": converted,
                "forwarded_by": peer.origin,
            },
        )
        self.session.flush()
        return forward_answer(recognition)

    @staticmethod
    def _candidates(request: dict[str, Any], forwarded: ForwardedRecognition) -> list[Candidate]:
        """The forwarded blocks, each the part its request names (same block, serials, quantity)."""
        parts = request["blocks"]
        if len(parts) != len(forwarded.blocks):
            raise _refused(
                "/blocks", "5021", f"{len(forwarded.blocks)} blocks for the request's {len(parts)}"
            )
        found = []
        for position, (part, block) in enumerate(zip(parts, forwarded.blocks, strict=True)):
            record = block.record
            issues = validate("credit-block", record)
            if issues:
                raise _refused(
                    f"/blocks/{position}/record{issues[0].pointer}", issues[0].code, issues[0].detail
                )
            named = (part["block_id"], part["namespace"], part["start"], part["end"], part["quantity"])
            given = (
                block.block_id,
                record.get("serial_namespace"),
                record.get("serial_start"),
                record.get("serial_end"),
                record.get("quantity"),
            )
            if named != given:
                raise _refused(
                    f"/blocks/{position}", "5021", f"the block is {given}, the request names {named}"
                )
            found.append(Candidate(record, position, block.block_id, block.project))
        return found

    def countersigned(self, recognition_id: str, peer: HubPeer, answer: dict[str, Any]) -> None:
        """The origin's hub acknowledged the decision: keep its countersignature (if it verifies)."""
        row = self.repository.federated(recognition_id, for_update=True)
        recognition = self.recognition_rows.get(recognition_id)
        signature = answer.get("countersignature")
        if (
            row is None
            or recognition is None
            or recognition.certificate is None
            or not isinstance(signature, dict)
        ):
            return
        try:
            verify_record(str(signature.get("jws")), jwks_of(peer), record=recognition.certificate)
        except JWSError:
            log.warning(
                "the countersignature of %s by %s does not verify; not kept", recognition_id, peer.origin
            )
            return
        entry = HubSignature.model_validate({**signature, "role": "countersigner", "hub": peer.origin})
        row.signatures = [s for s in row.signatures if s.get("hub") != peer.origin] + [entry.model_dump()]
        self.session.add(row)

    # at the origin's hub

    def _forwarded(self, recognition_id: str, peer: HubPeer) -> tuple[FederatedRecognition, Recognition]:
        row = self.repository.federated(recognition_id, for_update=True)
        if row is None or row.role != Role.ORIGIN:
            raise NotFound(f"no recognition {recognition_id} was forwarded by this hub", code="5022")
        if row.peer_origin != peer.origin:
            raise NotDestinationHub(
                f"{peer.origin} does not serve the destination of recognition {recognition_id}", code="2024"
            )
        return row, self.recognitions.get(recognition_id, for_update=True)

    def accepted(self, recognition_id: str, answer: dict[str, Any]) -> None:
        """The destination's hub holds the recognition pending review: keep its evaluation."""
        recognition = self.recognition_rows.locked(recognition_id)
        if recognition is None or RecognitionState(recognition.status) not in OPEN:
            return
        parsed = ForwardAnswer.model_validate(answer)
        recognition.evaluation = parsed.evaluation
        recognition.converted_quantity = parsed.converted_quantity
        seen = {(c["code"], c["passed"]) for c in recognition.checks}
        recognition.checks = recognition.checks + [
            c for c in parsed.checks if (c["code"], c["passed"]) not in seen
        ]
        self.session.add(recognition)

    def refused(self, recognition_id: str, peer_origin: str, problem: Any) -> None:
        """The destination's hub refused the forwarded recognition: rejected here, serials free."""
        recognition = self.recognition_rows.locked(recognition_id)
        if recognition is None or RecognitionState(recognition.status) not in OPEN:
            return
        problem = problem if isinstance(problem, dict) else {}
        errors = [e for e in problem.get("errors") or [] if isinstance(e, dict)]
        code = str(problem.get("code") or "5020")
        reason = f"refused by {peer_origin}: {problem.get('detail') or 'no reason given'} [{code}]"[:2000]
        failed = [
            {"code": str(e.get("code") or code), "passed": False, "detail": str(e.get("detail") or "")[:500]}
            for e in errors[:50]
        ] or [{"code": code, "passed": False, "detail": reason}]
        recognition.checks = recognition.checks + failed
        recognition.decision_reason, recognition.decided_at = reason, datetime.now(UTC)
        move(
            self.session,
            recognition,
            RecognitionState.REJECTED,
            "recognition.rejected",
            f"hub:{peer_origin}"[:64],
            {"reason": reason, "code": "5020"},
        )
        Reservations(self.session).release(ClaimKind.RECOGNITION, recognition.id)

    def complete(self, peer: HubPeer, recognition_id: str, decision: ForwardedDecision) -> DecisionAnswer:
        """The destination's decision on a recognition forwarded from here (see the module)."""
        if decision.recognition_id != recognition_id:
            raise _refused("/recognition_id", "5021", "the body names another recognition than the path")
        row, recognition = self._forwarded(recognition_id, peer)
        current = RecognitionState(recognition.status)
        wanted = RecognitionState.APPROVED if decision.decision == "approve" else RecognitionState.REJECTED
        if current not in OPEN:
            if current == wanted or (
                wanted == RecognitionState.APPROVED and current == RecognitionState.USED
            ):
                return decision_answer(self.settings, row, recognition)  # told again
            raise Conflict(f"recognition {recognition_id} is already {recognition.status}", code="6002")
        now = datetime.now(UTC)
        if wanted == RecognitionState.REJECTED:
            recognition.decision_reason, recognition.decided_at = decision.reason, now
            move(
                self.session,
                recognition,
                wanted,
                "recognition.rejected",
                _actor(peer),
                {"reason": decision.reason},
            )
            Reservations(self.session).release(ClaimKind.RECOGNITION, recognition.id)
            self.session.flush()
            return decision_answer(self.settings, row, recognition)
        certificate, kid = self._verified_certificate(peer, recognition, decision)
        self.recognitions.reserve_for_certificate(recognition)
        RECOGNITION.transition(current, RecognitionState.APPROVED)
        key = self.keystore.active()
        own = sign_record(certificate, key, typ=CERTIFICATE_TYPE)
        index = append_change(
            self.session,
            "recognition.approved",
            subject=("recognition-certificate", certificate["certificate_id"]),
            actor=_actor(peer),
            platforms=[recognition.origin],
            data={
                "recognition_id": recognition.id,
                "certificate_digest": certificate_digest(certificate),
                "issued_by": peer.origin,
                "issuer_log_index": certificate["log_index"],
            },
        )
        recognition.status, recognition.decision_reason, recognition.decided_at = (
            "approved",
            decision.reason,
            now,
        )
        recognition.converted_quantity = certificate["converted_quantity"]
        recognition.approvals = [
            {"operator": f"{name}@{peer.origin}", "reason": decision.reason, "at": certificate["approved_at"]}
            for name in certificate["approved_by"]
        ]
        recognition.certificate, recognition.certificate_jws = certificate, decision.jws
        row.signatures = [
            HubSignature(
                hub=peer.origin,
                role="issuer",
                kid=kid,
                jws=str(decision.jws),
                log_index=certificate["log_index"],
            ).model_dump(),
            HubSignature(
                hub=self.settings.log_origin, role="countersigner", kid=key.kid, jws=own, log_index=index
            ).model_dump(),
        ]
        self.session.add_all([recognition, row])
        self.session.flush()
        return decision_answer(self.settings, row, recognition)

    def _verified_certificate(
        self, peer: HubPeer, recognition: Recognition, decision: ForwardedDecision
    ) -> tuple[dict[str, Any], str]:
        certificate = decision.certificate
        if certificate is None or decision.jws is None:
            raise _refused("/certificate", "1002", "an approval carries the certificate and its JWS")
        # the peer signs what it likes: the members used here are of their types before use
        # (a certificate from another hub names that hub's URL as issuer, so the schema's
        # issuer.hub pattern does not hold for it; the members are checked one by one)
        shapes: dict[str, Callable[[Any], bool]] = {
            "log_index": _count,
            "converted_quantity": _count,
            "approved_by": lambda v: isinstance(v, list) and all(isinstance(n, str) for n in v),
            "approved_at": lambda v: isinstance(v, str),
            "issuer": lambda v: isinstance(v, dict),
        }
        for name, good in shapes.items():
            if not good(certificate.get(name)):
                raise _refused(f"/certificate/{name}", "1002", f"the certificate's {name} is malformed")
        try:
            verified = verify_record(decision.jws, jwks_of(peer), record=certificate)
        except JWSError as exc:
            raise _refused("/jws", exc.code, f"the certificate's signature: {exc.message}") from exc
        expected = {
            "certificate_id": certificate_id(recognition),
            "request_id": recognition.request_id,
            "origin_registry": recognition.origin,
            "destination_registry": recognition.destination,
            "purpose": recognition.purpose,
            "blocks": recognition.request["blocks"],
            "quantity": recognition.quantity,
        }
        for name, value in expected.items():
            if certificate.get(name) != value:
                raise _refused(
                    f"/certificate/{name}", "5021", f"the certificate's {name} is not the recognition's"
                )
        if certificate.get("issuer", {}).get("kid") != verified.kid:
            raise _refused(
                "/certificate/issuer/kid", "5021", "the certificate names another key than its signer"
            )
        return certificate, verified.kid


def _count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**63


def forward_answer(recognition: Recognition) -> ForwardAnswer:
    return ForwardAnswer(
        recognition_id=recognition.id,
        status=recognition.status,
        converted_quantity=recognition.converted_quantity,
        evaluation=recognition.evaluation,
        checks=recognition.checks,
    )


def decision_answer(
    settings: Settings, row: FederatedRecognition, recognition: Recognition
) -> DecisionAnswer:
    own = next((s for s in row.signatures if s.get("hub") == settings.log_origin), None)
    return DecisionAnswer(
        recognition_id=recognition.id,
        status=recognition.status,
        countersignature=HubSignature.model_validate(own) if own else None,
    )
