"""Proposing a transfer: idempotent on the client's key, checked, accepted — then the worker
(`hub.transfers.worker`) drives the origin and the destination to completion."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from hub.log.changes import record_change
from hub.platforms.models import Platform
from hub.problems import Conflict, HubError
from hub.registry.models import CreditBlock
from hub.registry.repository import RegistryRepository
from hub.registry.requested import check_requested
from hub.transfers.models import Transfer, TransferSerials
from mutual_recognition.checks import registries_differ
from mutual_recognition.serials import SerialRange
from mutual_recognition.transfer_states import ITL_STATUS, IllegalTransition, State, transition
from schemas.canonical import canonicalize
from schemas.validation import Issue


class TransferRefused(HubError):
    status = 422
    slug = "transfer-refused"
    title = "The transfer is refused; nothing moved"


def body_hash(body: dict[str, Any]) -> str:
    return hashlib.sha256(canonicalize(body)).hexdigest()


def step(state: State, reason: str | None = None) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "state": str(state),
        "itl_status": ITL_STATUS[state],
        "at": datetime.now(UTC).isoformat(),
    }
    if reason:
        entry["reason"] = reason
    return entry


def transfer_serials(session: Session, namespace: str, requested: SerialRange) -> list[SerialRange]:
    """Serials of ``namespace`` under a transfer that is not final and that touch ``requested``."""
    rows = session.exec(
        select(TransferSerials).where(
            TransferSerials.namespace == namespace,
            col(TransferSerials.active).is_(True),
            col(TransferSerials.serial_start) <= requested.end,
            col(TransferSerials.serial_end) >= requested.start,
        )
    ).all()
    return [SerialRange(r.serial_start, r.serial_end, r.transfer_id) for r in rows]


class TransferService:
    def __init__(self, session: Session, deadline: timedelta) -> None:
        self.session = session
        self.deadline = deadline

    def _taken(self, namespace: str, requested: SerialRange) -> list[SerialRange]:
        return transfer_serials(self.session, namespace, requested)

    def propose(
        self, body: dict[str, Any], *, key: str, client_id: str, sender: str
    ) -> tuple[Transfer, bool]:
        """The transfer for this key (and whether it was created now); 6004 when the key was used
        with another body."""
        digest = body_hash(body)
        existing = self.session.exec(
            select(Transfer).where(Transfer.client_id == client_id, Transfer.idempotency_key == key)
        ).first()
        if existing is not None:
            if existing.body_hash != digest:
                raise Conflict("this Idempotency-Key was used with another body", code="6004")
            return existing, False
        if self.session.get(Transfer, body["transfer_id"]) is not None:
            raise Conflict(f"transfer {body['transfer_id']} exists", code="3012")
        destination = body["destination"]
        issues: list[Issue] = []
        differ = registries_differ(sender, destination)
        if not differ.passed:
            issues.append(Issue("/destination", "5011", differ.detail))
        target = self.session.get(Platform, destination)
        if target is None or str(target.status) != "active":
            issues.append(Issue("/destination", "2002", f"{destination} is not an active platform"))
        items = []
        for item in body["blocks"]:
            block = self.session.get(CreditBlock, item["block_id"])
            whole = (block.serial_start, block.serial_end) if block else (1, 1)
            items.append({**item, "start": item.get("start", whole[0]), "end": item.get("end", whole[1])})
        RegistryRepository(self.session).lock_namespaces(item["namespace"] for item in items)
        found, _, plan = check_requested(self.session, sender, items, self._taken)
        issues += found
        if issues:
            raise TransferRefused(f"{len(issues)} check(s) failed", code=issues[0].code, errors=issues)
        now = datetime.now(UTC)
        transfer = Transfer(
            id=body["transfer_id"],
            client_id=client_id,
            idempotency_key=key,
            body_hash=digest,
            origin=sender,
            destination=destination,
            state=str(State.ACCEPTED),
            itl_status=ITL_STATUS[State.ACCEPTED],
            quantity=sum(requested.end - requested.start + 1 for _, requested in plan),
            request={**body, "blocks": items},
            history=[step(State.PROPOSED), step(State.CHECKED), step(State.ACCEPTED)],
            next_attempt_at=now,
            deadline=now + self.deadline,
        )
        self.session.add(transfer)
        for block, requested in plan:
            self.session.add(
                TransferSerials(
                    transfer_id=transfer.id,
                    namespace=block.serial_namespace,
                    serial_start=requested.start,
                    serial_end=requested.end,
                )
            )
        record_change(
            self.session,
            "transfer.accepted",
            subject=("transfer", transfer.id),
            actor=client_id,
            platforms=[sender, destination],
            data={"blocks": [b.block_id for b, _ in plan], "quantity": transfer.quantity},
        )
        self.session.flush()
        return transfer, True

    def cancel(self, transfer: Transfer, *, actor: str) -> Transfer:
        """The origin withdraws a transfer nothing has moved for yet (accepted, not locked)."""
        try:
            target = transition(State(transfer.state), State.CANCELLED)
        except IllegalTransition as exc:
            raise Conflict(str(exc), code="6002") from exc
        transfer.state, transfer.itl_status = str(target), ITL_STATUS[target]
        transfer.history = [*transfer.history, step(target, "cancelled by the origin")]
        self.session.execute(
            update(TransferSerials)
            .where(col(TransferSerials.transfer_id) == transfer.id)
            .values(active=False)
        )
        record_change(
            self.session,
            "transfer.cancelled",
            subject=("transfer", transfer.id),
            actor=actor,
            platforms=[transfer.origin, transfer.destination],
        )
        self.session.add(transfer)
        self.session.flush()
        return transfer
