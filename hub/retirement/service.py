"""Retiring serials: every block check and claim check, the split that keeps the rest of each block,
a final status, a retirement claim for ever, one log entry telling the holder and the origin (for
its corresponding adjustment). A retirement that names a certificate consumes it.

Each origin platform of the retired serials other than the retiring one is sent a retirement notice
through the platform API (an outbox row written here, sent by :mod:`hub.notices.worker` after the
commit); ``origin_notified`` is false until every such origin acknowledged it (true at once when the
retiring platform is the only origin: it made the call itself)."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session

from hub.claims.service import Reservations, part_requests
from hub.log.changes import append_change
from hub.notices.repository import NoticeRepository
from hub.problems import Conflict, HubError, SchemaViolation
from hub.recognition.models import Recognition
from hub.recognition.repository import RecognitionRepository
from hub.recognition.use import Certificates
from hub.registry.models import CreditBlock
from hub.registry.splits import split_block
from hub.retirement.models import RetirementRecord
from hub.retirement.repository import RetirementRepository
from mutual_recognition.claims import ClaimKind
from mutual_recognition.parts import Part, total_issue
from mutual_recognition.recognition_states import RecognitionState
from mutual_recognition.usage import certificate_fits_retirement, compliance_of_retirement
from mutual_recognition.vocabulary import MISMATCH, current_form
from schemas import validate
from schemas.validation import Issue


class RetirementRefused(HubError):
    status = 422
    slug = "retirement-refused"
    title = "The retirement is refused; nothing changed"


def _refuse(issues: list[Issue]) -> RetirementRefused:
    return RetirementRefused(f"{len(issues)} check(s) failed", code=issues[0].code, errors=issues)


class RetirementService:
    def __init__(self, session: Session) -> None:
        self.session = session
        self.certificates = Certificates(session)
        self.repository = RetirementRepository(session)

    def _certificate(self, record: dict[str, Any]) -> tuple[Recognition | None, list[Issue]]:
        """The certificate the retirement names: approved, and for this purpose and beneficiary."""
        named = record.get("certificate_id")
        if named is None:
            return None, []
        found = self.certificates.for_use(named)
        if isinstance(found, Issue):
            return None, [found]
        why = certificate_fits_retirement(
            destination=found.destination,
            purpose=found.purpose,
            compliance=found.request.get("compliance"),
            retirement=record,
        )
        return (None, [Issue("/certificate_id", "5014", why)]) if why else (found, [])

    def _recognized_for_use(
        self, record: dict[str, Any], pairs: list[tuple[CreditBlock, Part]]
    ) -> list[Issue]:
        """5012: credits used for another region's ETS compliance must be recognized there, for
        that covered entity and year — the recognition is where the ruleset's purpose limits (the
        offset share, the share from outside the region) were enforced."""
        where = record["beneficiary"]["registry"]
        compliance = compliance_of_retirement(record)
        if compliance is None:
            return []
        covering = RecognitionRepository(self.session).for_compliance(where, compliance)
        issues = []
        for block, part in pairs:
            if block.origin_registry == where:
                continue
            if not any(covers(r, part.namespace, part.serials.start, part.serials.end) for r in covering):
                issues.append(
                    Issue(
                        f"/blocks/{part.position}",
                        "5012",
                        f"no approved {where} ETS recognition covers these serials",
                    )
                )
        return issues

    def retire(self, request: dict[str, Any], *, sender: str, actor: str) -> dict[str, Any]:
        record = {
            **request,
            "retired_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "origin_notified": False,
        }
        issues = validate("retirement", record)
        if issues:
            raise SchemaViolation("not a valid retirement", code=issues[0].code, errors=issues)
        form = current_form("retirement", record)  # deprecated members in their current place
        if form.issues:
            raise SchemaViolation("the retirement says two things", code=MISMATCH, errors=form.issues)
        record = form.body
        if record["registry"] != sender:
            raise _refuse([Issue("/registry", "2004", f"{sender} retires as {sender}")])
        if self.repository.get(sender, record["retirement_id"]) is not None:
            raise Conflict(f"retirement {record['retirement_id']} exists", code="3012")
        certificate, issues = self._certificate(record)
        reservations = Reservations(self.session)
        resolution = reservations.resolve(
            part_requests(record["blocks"]),
            sender=sender,
            kind=ClaimKind.RETIREMENT,
            certificate=record.get("certificate_id") if certificate is not None else None,
        )
        issues += resolution.issues
        total = total_issue(record["quantity"], resolution.normalized)
        issues += [total] if total else []
        pairs = [] if issues else reservations.stored(resolution)
        if not issues:
            issues += self._recognized_for_use(record, pairs)
        if issues:
            raise _refuse(issues)
        owner = f"{sender}:{record['retirement_id']}"
        reservations.claim(resolution, ClaimKind.RETIREMENT, owner)
        if certificate is not None:
            self.certificates.use(certificate, by=f"retirement:{owner}", actor=actor)
        lineage, origins = [], {sender}
        taken: dict[str, list[tuple[int, int]]] = defaultdict(list)
        told: dict[str, list[dict[str, Any]]] = defaultdict(list)  # origin -> its retired serials
        for block, part in pairs:
            taken[block.block_id].append((part.serials.start, part.serials.end))
            if block.origin_registry != sender:
                told[block.origin_registry].append(
                    {
                        "block_id": block.block_id,
                        "start": part.serials.start,
                        "end": part.serials.end,
                        "quantity": part.serials.end - part.serials.start + 1,
                    }
                )
        for block_id, ranges in taken.items():
            block = next(b for b, _ in pairs if b.block_id == block_id)
            retired, pieces = split_block(self.session, block, ranges, "retired")
            lineage.append({"parent": block_id, "pieces": pieces, "retired": retired})
            origins.add(block.origin_registry)
        index = append_change(
            self.session,
            "block.retired",
            subject=("retirement", record["retirement_id"]),
            actor=actor,
            platforms=sorted(origins),
            data={"purpose": record["purpose"], "quantity": record["quantity"], "lineage": lineage},
        )
        record["log_index"] = index
        record["origin_notified"] = not told
        record["retired_blocks"] = [block for item in lineage for block in item["retired"]]
        notices = NoticeRepository(self.session)
        for origin, parts in sorted(told.items()):
            notices.enqueue(
                "retirement",
                owner,
                origin,
                {
                    "retirement_id": record["retirement_id"],
                    "registry": sender,
                    "purpose": record["purpose"],
                    "quantity": sum(item["quantity"] for item in parts),
                    "retired_at": record["retired_at"],
                    "blocks": parts,
                },
            )
        self.session.add(
            RetirementRecord(
                registry_code=sender,
                retirement_id=record["retirement_id"],
                purpose=record["purpose"]["kind"],
                quantity=record["quantity"],
                record=record,
                log_index=index,
            )
        )
        self.session.flush()
        return record

    def get(self, registry: str, retirement_id: str) -> dict[str, Any] | None:
        """A retirement of ``registry`` as stored (``origin_notified`` as acknowledged so far)."""
        found = self.repository.get(registry, retirement_id)
        return None if found is None else found.record


def covers(recognition: Recognition, namespace: str, start: int, end: int) -> bool:
    """Whether the recognition's request names serials [start, end] of ``namespace`` (within one part)."""
    return recognition.status in (RecognitionState.APPROVED, RecognitionState.USED) and any(
        part["namespace"] == namespace and part["start"] <= start and end <= part["end"]
        for part in recognition.request["blocks"]
    )
