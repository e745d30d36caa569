"""Retiring serials: every block check, the split that keeps the rest of the block, a final
status, one log entry telling the holder and the origin (for its corresponding adjustment)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session, col, select

from hub.log.changes import record_change
from hub.problems import Conflict, HubError, SchemaViolation
from hub.recognition.models import Recognition, RecognizedSerials
from hub.registry.models import CreditBlock
from hub.registry.repository import RegistryRepository
from hub.registry.requested import check_requested
from hub.registry.splits import split_block
from hub.retirement.models import RetirementRecord
from hub.transfers.service import transfer_serials
from mutual_recognition.serials import SerialRange
from schemas import validate
from schemas.validation import Issue


class RetirementRefused(HubError):
    status = 422
    slug = "retirement-refused"
    title = "The retirement is refused; nothing changed"


class RetirementService:
    def __init__(self, session: Session) -> None:
        self.session = session

    def _pending(self, namespace: str, requested: SerialRange) -> list[SerialRange]:
        rows = self.session.exec(
            select(RecognizedSerials, Recognition)
            .join(Recognition, col(Recognition.id) == col(RecognizedSerials.recognition_id))
            .where(
                RecognizedSerials.namespace == namespace,
                col(RecognizedSerials.active).is_(True),
                col(Recognition.status).in_(["pending_review", "pending_second_approval"]),
                col(RecognizedSerials.serial_start) <= requested.end,
                col(RecognizedSerials.serial_end) >= requested.start,
            )
        ).all()
        pending = [SerialRange(s.serial_start, s.serial_end, s.recognition_id) for s, _ in rows]
        return pending + transfer_serials(self.session, namespace, requested)

    def _recognized_for_use(
        self, record: dict[str, Any], plan: list[tuple[CreditBlock, SerialRange]]
    ) -> list[Issue]:
        """5012: credits used for another region's ETS compliance must be recognized there, for
        that covered entity and year — the recognition is where the ruleset's purpose limits
        (the offset share, the share from outside the region) were enforced."""
        purpose, where = record["purpose"], record["beneficiary"]["registry"]
        if purpose["kind"] != "ets-compliance":
            return []
        compliance = {
            "covered_entity_hash": purpose.get("covered_entity_hash"),
            "year": purpose.get("compliance_year"),
        }
        issues = []
        for position, (block, requested) in enumerate(plan):
            if block.origin_registry == where:
                continue
            approved = self.session.exec(
                select(RecognizedSerials, Recognition)
                .join(Recognition, col(Recognition.id) == col(RecognizedSerials.recognition_id))
                .where(
                    RecognizedSerials.namespace == block.serial_namespace,
                    col(RecognizedSerials.serial_start) <= requested.start,
                    col(RecognizedSerials.serial_end) >= requested.end,
                    Recognition.status == "approved",
                    Recognition.destination == where,
                    Recognition.purpose == "ets-compliance",
                )
            ).all()
            if not any(r.request.get("compliance") == compliance for _, r in approved):
                issues.append(
                    Issue(
                        f"/blocks/{position}",
                        "5012",
                        f"no approved {where} ETS recognition covers these serials",
                    )
                )
        return issues

    def retire(self, request: dict[str, Any], *, sender: str, actor: str) -> dict[str, Any]:
        record = {
            **request,
            "retired_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "origin_notified": True,
        }
        issues = validate("retirement", record)
        if issues:
            raise SchemaViolation("not a valid retirement", code=issues[0].code, errors=issues)
        if record["registry"] != sender:
            raise RetirementRefused(
                "a platform retires only what it holds",
                code="2004",
                errors=[Issue("/registry", "2004", f"{sender} retires as {sender}")],
            )
        if self.session.get(RetirementRecord, (sender, record["retirement_id"])) is not None:
            raise Conflict(f"retirement {record['retirement_id']} exists", code="3012")
        RegistryRepository(self.session).lock_namespaces(item["namespace"] for item in record["blocks"])
        issues, _, plan = check_requested(self.session, sender, record["blocks"], self._pending)
        issues += self._recognized_for_use(record, plan)
        if issues:
            raise RetirementRefused(f"{len(issues)} check(s) failed", code=issues[0].code, errors=issues)
        lineage, origins = [], {sender}
        for block, requested in plan:
            _, pieces = split_block(self.session, block, requested.start, requested.end, "retired")
            lineage.append({"parent": block.block_id, "pieces": pieces})
            origins.add(block.origin_registry)
        index = record_change(
            self.session,
            "block.retired",
            subject=("retirement", record["retirement_id"]),
            actor=actor,
            platforms=sorted(origins),
            data={"purpose": record["purpose"], "quantity": record["quantity"], "lineage": lineage},
        )
        record["log_index"] = index
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
