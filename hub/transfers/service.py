"""Proposing a transfer: idempotent on the client's key, checked, accepted — then the worker
(`hub.transfers.worker`) drives the origin and the destination to completion."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, cast

from sqlmodel import Session

from hub.claims.repository import claim_rows
from hub.claims.service import Reservations, Resolution, part_requests
from hub.idempotency.route import KeyReused
from hub.log.bulk import Change
from hub.log.changes import record_change
from hub.log.transitions import apply_transition
from hub.peering.models import PeerStatus
from hub.peering.repository import PeerRepository
from hub.platforms.repository import PlatformRepository
from hub.problems import Conflict, HubError
from hub.recognition.use import Certificates
from hub.transfers.models import Transfer
from hub.transfers.repository import ProposalRepository
from mutual_recognition.checks import registries_differ
from mutual_recognition.claims import ClaimKind
from mutual_recognition.transfer_states import FINAL, ITL_STATUS, TRANSFER, State
from mutual_recognition.usage import certificate_fits_transfer
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


class TransferService:
    def __init__(self, session: Session, deadline: timedelta) -> None:
        self.session = session
        self.deadline = deadline
        self.peers: dict[str, str | None] = {}  # destination -> the peer hub serving it (None: here)

    def propose(
        self, body: dict[str, Any], *, key: str, client_id: str, sender: str
    ) -> tuple[Transfer, bool]:
        """The transfer for this key (and whether it was created now); 6004 when the key was used
        with another body."""
        digest = body_hash(body)
        proposals = ProposalRepository(self.session)
        self.session.flush()  # what the caller's session holds is written before the Core reads
        # One proposal per key at a time (PostgreSQL; SQLite serializes writers): a retry racing
        # its original waits for it and then finds it, instead of colliding with its claims. The
        # namespaces its serials are in are locked next, in the same statement (as a batch does).
        reservations = Reservations(self.session)
        namespaces = sorted({str(part.get("namespace", "")) for part in body["blocks"]})
        proposals.lock_in_order(
            [f"idempotency {client_id} {key}", f"transfer {body['transfer_id']}", *namespaces]
        )
        reservations.locked |= set(namespaces)
        # the transfer of this key, and the transfer of this id, in one statement
        found = proposals.known(client_id, key, body["transfer_id"])
        existing = next((t for t in found if (t.client_id, t.idempotency_key) == (client_id, key)), None)
        if existing is not None and existing.batch:
            raise KeyReused("this Idempotency-Key was used for a batch of transfers", code="6004")
        if existing is not None:
            if existing.body_hash != digest:
                raise KeyReused("this Idempotency-Key was used with another body", code="6004")
            stored = proposals.transfer(existing.id)
            assert stored is not None, "the transfer read a moment ago under its lock"
            return stored, False
        if found:
            raise Conflict(f"transfer {body['transfer_id']} exists", code="3012")
        named = {str(part.get("block_id", "")) for part in body["blocks"]}
        destination = body["destination"]
        blocks, status = proposals.blocks_and_destination(named, destination)
        reservations.known.update(blocks)
        if status is not None:  # a platform served here (else check() looks it up across hubs)
            self.peers.setdefault(destination, None)
        active = None if status is None else {destination: status == "active"}
        issues, resolution = self.check(body, sender=sender, reservations=reservations, active=active)
        if issues:
            raise TransferRefused(f"{len(issues)} check(s) failed", code=issues[0].code, errors=issues)
        row = self.accepted_row(body, resolution, key=key, client_id=client_id, sender=sender, digest=digest)
        # the transfer and its claims: one statement on PostgreSQL
        proposals.add_claimed(
            row, claim_rows(ClaimKind.TRANSFER, reservations.to_claim(resolution, row["id"]))
        )
        change = accepted_change(row["id"], actor=client_id, origin=sender, request=row["request"])
        record_change(
            self.session,
            change.type,
            subject=change.subject,
            actor=change.actor,
            platforms=change.platforms,
            data=change.data,
        )
        # the stored row's values (not attached to the session: one Core insert wrote the row)
        return Transfer.model_construct(**row), True

    def check(
        self,
        body: dict[str, Any],
        *,
        sender: str,
        reservations: Reservations,
        active: Mapping[str, bool] | None = None,
    ) -> tuple[list[Issue], Resolution]:
        """Every check of one proposed transfer (nothing written): the issues that refuse it, each
        pointing into ``body``, and its resolved serials. ``active`` (destination -> active?) spares
        a batch reading each destination again."""
        destination = body["destination"]
        issues: list[Issue] = []
        differ = registries_differ(sender, destination)
        if not differ.passed:
            issues.append(Issue("/destination", "5011", differ.detail))
        if body["to_account"]["registry"] != destination:
            where = body["to_account"]["registry"]
            issues.append(
                Issue("/to_account/registry", "2005", f"the account is in {where}, not in {destination}")
            )
        if active is None or destination not in active:
            status = ProposalRepository(self.session).platform_status(destination)
            is_active = status == "active"
            if status is not None:
                self.peers.setdefault(destination, None)  # served here: not across hubs
        else:
            is_active = active[destination]
        across = None if is_active else self._across(destination, issues)
        if not is_active and across is None and not issues:
            issues.append(Issue("/destination", "2002", f"{destination} is not an active platform"))
        if across is not None and body.get("certificate_id") is not None:
            issues.append(
                Issue("/certificate_id", "6016", "a recognition certificate is not carried across hubs")
            )
        certificate = self._certificate(
            body.get("certificate_id") if across is None else None, destination, issues
        )
        resolution = reservations.resolve(
            part_requests(body["blocks"]), sender=sender, kind=ClaimKind.TRANSFER, certificate=certificate
        )
        return issues + resolution.issues, resolution

    def _across(self, destination: str, issues: list[Issue]) -> str | None:
        """The peer hub serving ``destination`` when this hub does not (a transfer across hubs:
        docs/federation-transfers.md); a suspended peering is an issue (2020)."""
        if destination in self.peers:
            return self.peers[destination]
        if PlatformRepository(self.session).get(destination) is not None:
            self.peers[destination] = None
            return None
        peer = PeerRepository(self.session).serving(destination)
        if peer is not None and peer.status != PeerStatus.ACTIVE:
            issues.append(
                Issue(
                    "/destination",
                    "2020",
                    f"the peering with {peer.origin}, serving {destination}, is suspended",
                )
            )
            return None
        self.peers[destination] = peer.origin if peer is not None else None
        return self.peers[destination]

    def accepted_row(
        self,
        body: dict[str, Any],
        resolution: Resolution,
        *,
        key: str,
        client_id: str,
        sender: str,
        digest: str | None = None,
    ) -> dict[str, Any]:
        """The columns of the accepted transfer a checked proposal becomes (``digest``: its body's
        ``body_hash`` when the caller has it already)."""
        items = [
            {
                "block_id": part.block_id,
                "namespace": part.namespace,
                "start": part.serials.start,
                "end": part.serials.end,
                "quantity": part.quantity,
            }
            for part in resolution.parts
        ]
        now = datetime.now(UTC)
        hub = self.peers.get(body["destination"])
        return {
            "id": body["transfer_id"],
            "client_id": client_id,
            "idempotency_key": key,
            "body_hash": body_hash(body) if digest is None else digest,
            "origin": sender,
            "destination": body["destination"],
            "state": str(State.ACCEPTED),
            "itl_status": ITL_STATUS[State.ACCEPTED],
            "quantity": resolution.quantity,
            "request": {**body, "blocks": items, **({"hub": hub} if hub else {})},
            "history": [step(State.PROPOSED), step(State.CHECKED), step(State.ACCEPTED)],
            "attempts": 0,
            "next_attempt_at": now,
            "deadline": now + self.deadline,
            "last_error": None,
            "created_at": now,
        }

    def _certificate(self, named: str | None, destination: str, issues: list[Issue]) -> str | None:
        """The certificate a transfer names, when it is usable for this destination (else an issue)."""
        if named is None:
            return None
        found = Certificates(self.session).for_use(named)
        if isinstance(found, Issue):
            issues.append(found)
            return None
        why = certificate_fits_transfer(destination=found.destination, transfer_destination=destination)
        if why:
            issues.append(Issue("/certificate_id", "5014", why))
            return None
        return named

    def get(self, transfer_id: str, *, for_update: bool = False) -> Transfer | None:
        """One transfer by id (None when unknown); ``for_update`` locks it for a change."""
        return ProposalRepository(self.session).transfer(transfer_id, for_update=for_update)

    def cancel(self, transfer: Transfer, *, actor: str) -> Transfer:
        """The origin withdraws a transfer nothing has moved for yet (accepted, not locked)."""
        move(self.session, transfer, State.CANCELLED, actor=actor, reason="cancelled by the origin")
        self.session.flush()
        return transfer


def accepted_change(transfer_id: str, *, actor: str, origin: str, request: dict[str, Any]) -> Change:
    """The log entry of an accepted transfer."""
    blocks = request["blocks"]
    return Change(
        "transfer.accepted",
        ("transfer", transfer_id),
        actor,
        (origin, request["destination"]),
        {
            "blocks": [item["block_id"] for item in blocks],
            "quantity": sum(item["quantity"] for item in blocks),
        },
    )


def end_claims(session: Session, transfer: Transfer, ended: list[str] | None = None) -> None:
    """A transfer became final: its claims end; a certificate it carried is used (completed) or
    holds its serials again (cancelled, terminated). With ``ended``, a transfer without a
    certificate is only named there: the caller ends the claims of all it names at once, later
    in the same transaction."""
    carried = transfer.request.get("certificate_id")
    if carried is None and ended is not None:
        ended.append(transfer.id)
        return
    reservations = Reservations(session)
    if carried is None:
        reservations.release(ClaimKind.TRANSFER, transfer.id)
        return
    certificates = Certificates(session)
    if transfer.state == State.COMPLETED:
        reservations.release(ClaimKind.TRANSFER, transfer.id)
        found = certificates.for_use(carried)
        if not isinstance(found, Issue):
            certificates.use(found, by=f"transfer:{transfer.id}", actor="hub-transfers")
    else:
        reservations.give_back(transfer.id, carried)


class Steppable(Protocol):
    """What a saga step reads and writes of a transfer: its ORM object or its plain row."""

    id: str
    origin: str
    destination: str
    state: str
    itl_status: Any  # int on the ORM object, int | None on a row
    history: Any
    request: Any


def take_step(
    session: Session,
    transfer: Steppable,
    target: State,
    *,
    actor: str,
    reason: str | None = None,
    data: dict[str, Any] | None = None,
    ended: list[str] | None = None,
) -> None:
    """Move a transfer through the saga's table, with its history entry and log entry (queued:
    appended with the unit of work's other changes when it commits); a final state ends its
    claims (or names the transfer in ``ended``: see :func:`end_claims`). The caller writes the
    transfer: :func:`move` for the ORM object, the round's writes for a row."""
    applied = apply_transition(
        session,
        TRANSFER,
        State(transfer.state),
        target,
        event=f"transfer.{target}",
        subject=("transfer", transfer.id),
        actor=actor,
        platforms=[transfer.origin, transfer.destination],
        data=data,
        reason=reason[:300] if reason else None,
        history={"itl_status": ITL_STATUS[target]},
    )
    state = applied.state
    transfer.state, transfer.itl_status = str(state), ITL_STATUS[state]
    transfer.history = [*transfer.history, applied.history]
    if state in FINAL:  # reads only the transfer's id, state and request
        end_claims(session, cast(Transfer, transfer), ended)


def move(
    session: Session,
    transfer: Transfer,
    target: State,
    *,
    actor: str,
    reason: str | None = None,
    data: dict[str, Any] | None = None,
    ended: list[str] | None = None,
) -> None:
    """:func:`take_step` on the transfer's ORM object, added to the session."""
    take_step(session, transfer, target, actor=actor, reason=reason, data=data, ended=ended)
    session.add(transfer)
