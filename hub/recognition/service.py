"""Submitting a recognition (checks + ruleset evaluation → pending review) and deciding it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session

from hub.claims.service import Reservations, Resolution, part_requests
from hub.crosshub.outbound import answer_origin, forward, forwarding_peer, received_from_peer
from hub.keystore import KeyStore
from hub.log.changes import record_change
from hub.problems import Conflict, HubError, NotFound, SchemaViolation
from hub.recognition.certificates import issue_certificate
from hub.recognition.models import Recognition
from hub.recognition.repository import RecognitionRepository
from hub.recognition.use import certificate_id, move
from hub.registry.models import CreditBlock
from hub.registry.repository import RegistryRepository
from hub.settings import Settings
from hub.standards.service import StandardsService
from mutual_recognition.block_states import USABLE
from mutual_recognition.checks import CheckOutcome, registries_differ
from mutual_recognition.claims import ClaimKind
from mutual_recognition.parts import Part
from mutual_recognition.recognition_states import OPEN as OPEN_STATES
from mutual_recognition.recognition_states import RECOGNITION, RecognitionState, after_approval
from schemas import validate
from schemas.validation import Issue
from standards import ProjectFacts, PurposeUsage, evaluate

OPEN = tuple(str(state) for state in OPEN_STATES)
CONSOLE_PREFIX = "console:"
REASON_MIN_LENGTH, REASON_MAX_LENGTH = 3, 2000  # a decision's reason, through the API or the console


def person(operator: str) -> str:
    """Who decided, whatever the channel: the console records `console:alice`, the API the operator
    client `alice`; for the four-eyes rule they are one person."""
    return operator.removeprefix(CONSOLE_PREFIX)


@dataclass(frozen=True)
class Candidate:
    """A block part as a ruleset evaluates it: its record (with the part's serials and quantity),
    its position in the request, its block id and its project's record (if known)."""

    record: dict[str, Any]
    position: int
    block_id: str
    project: dict[str, Any] | None

    def as_forwarded(self) -> dict[str, Any]:
        """The block as the origin's hub forwards it to the destination's (hub.crosshub)."""
        return {"block_id": self.block_id, "record": self.record, "project": self.project}


class RecognitionRefused(HubError):
    status = 422
    slug = "recognition-refused"
    title = "The recognition is refused; nothing was stored"


def _refuse(issues: list[Issue]) -> RecognitionRefused:
    return RecognitionRefused(f"{len(issues)} check(s) failed", code=issues[0].code, errors=issues)


class RecognitionService:
    def __init__(self, session: Session, settings: Settings, keystore: KeyStore) -> None:
        self.session = session
        self.settings = settings
        self.keystore = keystore

    def _usage(self, request: dict[str, Any], verified_emissions: int | None) -> PurposeUsage | None:
        compliance = request.get("compliance")
        if verified_emissions is None or compliance is None:
            return None
        used_total = used_outside = 0
        for other in RecognitionRepository(self.session).counted_in(request["destination_registry"]):
            if other.request.get("compliance") == compliance:
                used_total += other.converted_quantity
                used_outside += other.converted_quantity
        return PurposeUsage(verified_emissions, used_total, used_outside)

    def submit(
        self, request: dict[str, Any], *, sender: str, actor: str, verified_emissions: int | None
    ) -> Recognition:
        issues = validate("recognition-request", request)
        if issues:
            raise SchemaViolation("not a valid recognition-request", code=issues[0].code, errors=issues)
        if request["origin_registry"] != sender:
            raise _refuse([Issue("/origin_registry", "2004", f"{sender} asks only for its own credits")])
        exists = RecognitionRepository(self.session).id_of_request(sender, request["request_id"])
        if exists:
            raise Conflict(f"request {request['request_id']} was already submitted as {exists}", code="3012")
        origin, destination = request["origin_registry"], request["destination_registry"]
        outcomes: list[CheckOutcome] = [registries_differ(origin, destination)]
        issues = [] if outcomes[0].passed else [Issue("/destination_registry", "5011", outcomes[0].detail)]
        reservations = Reservations(self.session)
        resolution = reservations.resolve(
            part_requests(request["blocks"]), sender=sender, kind=ClaimKind.RECOGNITION
        )
        issues += resolution.issues
        outcomes += resolution.outcomes
        if issues:
            raise _refuse(issues)
        candidates = self.candidates(reservations.stored(resolution))
        peer = forwarding_peer(self.session, destination)
        if peer is not None:  # the destination is a peer hub's: it evaluates and decides
            stored = self._store(request, sender, actor, {}, 0, outcomes, resolution)
            forward(self.session, stored, peer, [c.as_forwarded() for c in candidates], verified_emissions)
            return stored
        evaluation, converted, outcomes = self.evaluate_blocks(
            request, candidates, verified_emissions, outcomes
        )
        return self._store(request, sender, actor, evaluation, converted, outcomes, resolution)

    def candidates(self, blocks: list[tuple[CreditBlock, Part]]) -> list[Candidate]:
        """The parts of held blocks a request names, as the ruleset evaluates them."""
        found = []
        registry = RegistryRepository(self.session)
        for block, part in blocks:
            record = {
                **block.record,
                "serial_start": part.serials.start,
                "serial_end": part.serials.end,
                "quantity": part.quantity,
            }
            project = registry.project(block.project_registry, block.project_id)
            found.append(
                Candidate(record, part.position, block.block_id, project.record if project else None)
            )
        return found

    def evaluate_blocks(
        self,
        request: dict[str, Any],
        blocks: list[Candidate],
        verified: int | None,
        outcomes: list[CheckOutcome],
    ) -> tuple[dict[str, Any], int, list[CheckOutcome]]:
        """The ruleset in force from origin to destination applied to each block (422 if any fails)."""
        origin, destination, purpose = (
            request["origin_registry"],
            request["destination_registry"],
            request["purpose"],
        )
        today = datetime.now(UTC).date()
        chosen = StandardsService(self.session).current(origin, destination, today)
        usage = self._usage(request, verified)
        decisions, converted, issues = [], 0, []
        for candidate in blocks:
            position = candidate.position
            decision = evaluate(
                candidate.record,
                destination=destination,
                purpose=purpose,
                on_date=today,
                ruleset=chosen.ruleset,
                project=ProjectFacts.from_project(candidate.project) if candidate.project else None,
                usage=usage,
            )
            result = decision.as_record()
            decisions.append({"block_id": candidate.block_id, **result})
            outcomes += [CheckOutcome(c["code"], c["passed"], c.get("detail", "")) for c in result["checks"]]
            issues += [
                Issue(f"/blocks/{position}", c["code"], c.get("detail", ""))
                for c in result["checks"]
                if not c["passed"]
            ]
            converted += decision.converted_quantity or 0
            if usage is not None:
                usage = PurposeUsage(
                    usage.verified_emissions,
                    usage.used_total + (decision.converted_quantity or 0),
                    usage.used_outside_region + (decision.converted_quantity or 0),
                )
        if issues:
            raise _refuse(issues)
        evaluation = {
            "ruleset": chosen.ruleset.ref.as_dict(),
            "on_date": today.isoformat(),
            "blocks": decisions,
        }
        return evaluation, converted, outcomes

    def _store(
        self,
        request: dict[str, Any],
        sender: str,
        actor: str,
        evaluation: dict[str, Any],
        converted: int,
        outcomes: list[CheckOutcome],
        resolution: Resolution,
    ) -> Recognition:
        recognition = Recognition(
            id=str(uuid.uuid4()),
            request_id=request["request_id"],
            origin=sender,
            destination=request["destination_registry"],
            purpose=request["purpose"],
            status="pending_review",
            quantity=request["quantity"],
            converted_quantity=converted,
            request=request,
            evaluation=evaluation,
            checks=[o.as_dict() for o in outcomes],
            requested_by=actor,
        )
        self.session.add(recognition)
        Reservations(self.session).claim(resolution, ClaimKind.RECOGNITION, recognition.id)
        record_change(
            self.session,
            "recognition.requested",
            subject=("recognition-request", recognition.id),
            actor=actor,
            platforms=[sender, recognition.destination],
            data={
                "request_id": recognition.request_id,
                "quantity": recognition.quantity,
                "converted_quantity": converted,
            },
        )
        self.session.flush()
        return recognition

    def select(self, sender: str, quantity: int, catalogue_id: str | None) -> list[dict[str, Any]]:
        """Serials the sender holds that add up to ``quantity``: held blocks, oldest vintage and
        lowest serial first, skipping serials already under a recognition or a transfer; 3020 when
        they do not suffice."""
        chosen: list[dict[str, Any]] = []
        needed = quantity
        for block in RegistryRepository(self.session).held_by(sender, catalogue_id):
            start = block.serial_start
            claims = Reservations(self.session).claims
            for taken in claims.overlapping(block.serial_namespace, block.serial_start, block.serial_end):
                if taken.start > start:
                    needed = self._take(chosen, block, start, min(taken.start - 1, block.serial_end), needed)
                start = max(start, taken.end + 1)
                if needed == 0:
                    return chosen
            if start <= block.serial_end:
                needed = self._take(chosen, block, start, block.serial_end, needed)
            if needed == 0:
                return chosen
        raise _refuse(
            [
                Issue(
                    "/quantity",
                    "3020",
                    f"{sender} holds {quantity - needed} t free for recognition, not {quantity}",
                )
            ]
        )

    @staticmethod
    def _take(chosen: list[dict[str, Any]], block: CreditBlock, start: int, end: int, needed: int) -> int:
        if needed <= 0 or end < start:
            return needed
        end = min(end, start + needed - 1)
        chosen.append(
            {
                "block_id": block.block_id,
                "namespace": block.serial_namespace,
                "start": start,
                "end": end,
                "quantity": end - start + 1,
                "unit": "tCO2e",
            }
        )
        return needed - (end - start + 1)

    # decisions
    def get(self, recognition_id: str, *, for_update: bool = False) -> Recognition:
        """One recognition; `for_update` locks its row (PostgreSQL; SQLite transactions are
        serialized) so that two decisions at once cannot overwrite each other's approval."""
        found = RecognitionRepository(self.session).get(recognition_id, for_update=for_update)
        if found is None:
            raise NotFound(f"no recognition {recognition_id}")
        return found

    def decide(self, recognition: Recognition, *, operator: str, approve: bool, reason: str) -> Recognition:
        current = RecognitionState(recognition.status)
        if current not in OPEN_STATES:
            raise Conflict(f"recognition {recognition.id} is already {recognition.status}", code="6002")
        now = datetime.now(UTC)
        received = received_from_peer(self.session, recognition.id)
        if not approve:
            self._move(
                recognition, RecognitionState.REJECTED, "recognition.rejected", operator, {"reason": reason}
            )
            recognition.decision_reason, recognition.decided_at = reason, now
            Reservations(self.session).release(ClaimKind.RECOGNITION, recognition.id)
            if received is not None:
                answer_origin(self.session, self.settings, received, recognition)
            return self._save(recognition)
        if any(person(a["operator"]) == person(operator) for a in recognition.approvals):
            raise Conflict(
                f"{operator} approved already; a second, distinct operator must approve", code="6003"
            )
        recognition.approvals = [
            *recognition.approvals,
            {"operator": operator, "reason": reason, "at": now.isoformat(timespec="seconds")},
        ]
        target = after_approval(
            len(recognition.approvals), recognition.quantity, self.settings.four_eyes_tonnes
        )
        if target is RecognitionState.PENDING_SECOND_APPROVAL:
            self._move(recognition, target, "recognition.first_approval", operator, {"reason": reason})
            return self._save(recognition)
        if received is None:  # a recognition received from a peer: the origin's hub holds its serials
            self.reserve_for_certificate(recognition)
        RECOGNITION.transition(current, RecognitionState.APPROVED)
        recognition.status, recognition.decision_reason, recognition.decided_at = "approved", reason, now
        recognition.certificate, recognition.certificate_jws = issue_certificate(
            self.session, recognition, self.keystore, self.settings.issuer, operator
        )
        if received is not None:
            answer_origin(self.session, self.settings, received, recognition)
        return self._save(recognition)

    def reserve_for_certificate(self, recognition: Recognition) -> None:
        """Before a certificate is signed: every serial it names is still held by the origin in a
        usable block and claimed by this recognition; the claims pass to the certificate."""
        reservations = Reservations(self.session)
        requested = recognition.request["blocks"]
        claimed = reservations.claims.of(ClaimKind.RECOGNITION, recognition.id)
        registry = RegistryRepository(self.session)
        held = all(
            (block := registry.holder_of(p["namespace"], p["start"], p["end"], recognition.origin))
            is not None
            and block.status in USABLE
            for p in requested
        )
        if len(claimed) != len(requested) or not held:
            raise Conflict(
                f"recognition {recognition.id}: its serials are no longer held and reserved for it;"
                " no certificate is signed",
                code="3029",
            )
        reservations.hand_over(
            ClaimKind.RECOGNITION, recognition.id, ClaimKind.CERTIFICATE, certificate_id(recognition)
        )

    def _move(
        self, recognition: Recognition, target: RecognitionState, event: str, actor: str, data: dict[str, Any]
    ) -> None:
        move(self.session, recognition, target, event, actor, data)

    def _save(self, recognition: Recognition) -> Recognition:
        self.session.add(recognition)
        self.session.flush()
        return recognition
