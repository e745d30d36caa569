"""Both halves of a transfer between platforms of two peered hubs (docs/federation-transfers.md).

At the origin's hub (it drives the origin platform): ``offer`` (the serials are locked: offer them
to the destination's hub, through the peer outbox), ``offer_answered`` and ``offer_refused`` (the
answer: commit before the deadline, abort after it, or the refusal), ``abort`` (the deadline
passed with the offer unanswered), ``outcome`` (the destination's result of a committed transfer:
credited — the saga completes as a local one — or refused: the worker unlocks at the origin).

At the destination's hub (it drives the destination platform): ``receive_offer`` (checked,
recorded as offered, nothing credited), ``decide`` (commit: its worker credits the platform;
abort: final), and ``credited`` / ``credit_refused`` (its worker's result: the blocks registered
as held by the destination, with their provenance, and the outcome sent back).

Every step is a compare-and-swap of the row's phase under its row lock; every message is one
outbox row (``UNIQUE(kind, subject, peer)``), sent under one ``jti`` whatever the retries.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session

from hub.claims.repository import ClaimRepository
from hub.crosshub.repository import CrossHubRepository
from hub.dates import aware
from hub.log.changes import record_change
from hub.peering.models import HubPeer
from hub.platforms.repository import PlatformRepository
from hub.problems import Conflict, HubError, NotFound
from hub.registry.models import CreditBlock
from hub.registry.repository import RegistryRepository
from hub.registry.splits import derived_row
from hub.transfers.models import Transfer
from hub.transfers.repository import ProposalRepository
from hub.transfers.service import move, step
from hub.xtransfer.models import FederatedTransfer, Side
from hub.xtransfer.public import ExchangeAnswer, TransferDecision, TransferOffer, TransferOutcome
from hub.xtransfer.repository import TransferExchangeRepository
from mutual_recognition.block_states import BlockStatus
from mutual_recognition.transfer_states import State
from mutual_recognition.xtransfer_states import EXCHANGE, Phase
from schemas import validate
from schemas.validation import Issue

OFFER, DECISION, OUTCOME = "transfer.offer", "transfer.decision", "transfer.outcome"
OFFER_PATH = "/federation/v1/transfers"


def decision_path(transfer_id: str) -> str:
    return f"/federation/v1/transfers/{transfer_id}/decision"


def outcome_path(transfer_id: str) -> str:
    return f"/federation/v1/transfers/{transfer_id}/outcome"


class NotTransferPeer(HubError):
    status = 403
    slug = "not-transfer-peer"
    title = "The calling hub is not the other hub of this cross-hub transfer"


class OfferRefused(HubError):
    status = 422
    slug = "transfer-offer-refused"
    title = "The offered transfer is refused; nothing was stored"


def _refused(pointer: str, code: str, detail: str) -> OfferRefused:
    return OfferRefused(detail, code=code, errors=[Issue(pointer, code, detail)])


def _actor(peer_origin: str) -> str:
    return f"hub:{peer_origin}"[:64]


def _answer(row: FederatedTransfer) -> ExchangeAnswer:
    return ExchangeAnswer(transfer_id=row.transfer_id, phase=Phase(row.phase))


class TransferExchange:
    def __init__(self, session: Session) -> None:
        self.session = session
        self.repository = TransferExchangeRepository(session)
        self.outbox = CrossHubRepository(session)

    def _phase(self, row: FederatedTransfer, target: Phase, event: str, *, data: dict[str, Any]) -> None:
        """Move ``row`` to ``target`` (the exchange's table; 6002 otherwise) with its log entry."""
        row.phase = str(EXCHANGE.transition(Phase(row.phase), target))
        record_change(
            self.session,
            event,
            subject=("transfer", row.transfer_id),
            actor=_actor(row.peer_origin) if row.role == Side.DESTINATION else "hub-transfers",
            platforms=[row.origin_registry, row.destination_registry],
            data={"hub": row.peer_origin, **data},
        )
        self.session.add(row)

    # -- at the origin's hub -------------------------------------------------------------------

    def offer(self, transfer: Transfer, pieces: list[dict[str, Any]]) -> None:
        """The serials are locked at the origin (``pieces``: the locked blocks' records and their
        roots): offer them to the destination's hub. Idempotent: a second call does nothing."""
        peer_origin = str(transfer.request["hub"])
        if self.repository.get(peer_origin, transfer.id, Side.ORIGIN) is not None:
            return
        row = FederatedTransfer(
            peer_origin=peer_origin,
            transfer_id=transfer.id,
            role=str(Side.ORIGIN),
            phase=str(Phase.OFFERED),
            origin_registry=transfer.origin,
            destination_registry=transfer.destination,
            quantity=transfer.quantity,
            request={"blocks": [piece["record"]["block_id"] for piece in pieces]},
        )
        self.repository.add(row)
        body = TransferOffer.model_validate(
            {
                "transfer_id": transfer.id,
                "origin_registry": transfer.origin,
                "destination_registry": transfer.destination,
                "to_account": transfer.request["to_account"],
                "quantity": transfer.quantity,
                "blocks": pieces,
            }
        ).model_dump()
        self.outbox.enqueue(peer_origin, OFFER, transfer.id, OFFER_PATH, body)
        record_change(
            self.session,
            "transfer.offered",
            subject=("transfer", transfer.id),
            actor="hub-transfers",
            platforms=[transfer.origin, transfer.destination],
            data={"hub": peer_origin, "blocks": row.request["blocks"], "quantity": transfer.quantity},
        )

    def _origin_half(
        self, peer_origin: str, transfer_id: str
    ) -> tuple[Transfer | None, FederatedTransfer | None]:
        transfer = ProposalRepository(self.session).locked_afresh(transfer_id)
        row = self.repository.get(peer_origin, transfer_id, Side.ORIGIN, for_update=True)
        return transfer, row

    def _decide(self, row: FederatedTransfer, decision: str) -> None:
        body = TransferDecision(
            transfer_id=row.transfer_id,
            decision=decision,
            origin_registry=row.origin_registry,
            destination_registry=row.destination_registry,
        ).model_dump()
        self.outbox.enqueue(row.peer_origin, DECISION, row.transfer_id, decision_path(row.transfer_id), body)

    def offer_answered(
        self, peer_origin: str, transfer_id: str, answer: dict[str, Any], now: datetime
    ) -> None:
        """The destination's hub recorded the offer: commit if the deadline has not passed (and
        nothing was decided yet), else abort. Decided once, under the transfer's row lock."""
        transfer, row = self._origin_half(peer_origin, transfer_id)
        if transfer is None or row is None or row.phase != Phase.OFFERED:
            return  # decided already (a late answer after the abort changes nothing)
        if answer.get("phase") != Phase.OFFERED or transfer.state != State.ORIGIN_LOCKED:
            self.abort(transfer, row, f"the destination hub answered {answer.get('phase')!r}")
            return
        if now >= aware(transfer.deadline):
            self.abort(transfer, row, "the destination hub answered after the transfer's deadline")
            return
        self._phase(row, Phase.COMMITTED, "transfer.committed", data={})
        self._decide(row, "commit")

    def offer_refused(self, peer_origin: str, transfer_id: str, problem: Any) -> None:
        """The destination's hub refused the offer: nothing was credited; the worker unlocks."""
        transfer, row = self._origin_half(peer_origin, transfer_id)
        if transfer is None or row is None or row.phase != Phase.OFFERED:
            return
        problem = problem if isinstance(problem, dict) else {}
        reason = (
            f"refused by {peer_origin}: {problem.get('detail') or 'no reason given'} [{problem.get('code')}]"
        )
        self._phase(row, Phase.REFUSED, "transfer.refused", data={"reason": reason[:300]})
        self._wake(transfer, reason)

    def abort(self, transfer: Transfer, row: FederatedTransfer, reason: str) -> None:
        """Abort an offer not committed (the deadline passed): the destination credits nothing;
        the worker unlocks at the origin and terminates the transfer."""
        self._phase(row, Phase.ABORTED, "transfer.aborted", data={"reason": reason[:300]})
        self._decide(row, "abort")
        self._wake(transfer, reason)

    def _wake(self, transfer: Transfer, reason: str) -> None:
        transfer.last_error = reason[:1000]
        transfer.next_attempt_at = datetime.now(UTC)
        self.session.add(transfer)

    def outcome(self, peer: HubPeer, transfer_id: str, told: TransferOutcome) -> ExchangeAnswer:
        """The destination's outcome of a committed transfer (see the module)."""
        if told.transfer_id != transfer_id:
            raise _refused("/transfer_id", "6010", "the body names another transfer than the path")
        row = self.repository.by_id(transfer_id, Side.ORIGIN)
        if row is None:
            raise NotFound(f"no transfer {transfer_id} crosses hubs from here", code="6010")
        if row.peer_origin != peer.origin:
            raise NotTransferPeer(f"{peer.origin} is not the destination hub of {transfer_id}", code="6012")
        transfer, row = self._origin_half(peer.origin, transfer_id)
        assert row is not None
        wanted = Phase.COMPLETED if told.outcome == "credited" else Phase.REFUSED
        if row.phase == wanted:
            return _answer(row)  # told again
        if row.phase != Phase.COMMITTED or transfer is None:
            raise Conflict(
                f"transfer {transfer_id} is {row.phase} here; it cannot be {told.outcome}", code="6014"
            )
        if wanted is Phase.REFUSED:
            reason = f"the destination's platform refused the credit: {told.reason}"
            self._phase(row, Phase.REFUSED, "transfer.refused", data={"reason": reason[:300]})
            self._wake(transfer, reason)
            return _answer(row)
        if not told.blocks:
            raise _refused("/blocks", "6015", "a credited transfer names the blocks it registered")
        self._phase(row, Phase.COMPLETED, "transfer.credited_at_destination", data={"blocks": told.blocks})
        row.credited = list(told.blocks)
        transfer.request = {**transfer.request, "credited": list(told.blocks)}
        move(
            self.session,
            transfer,
            State.DESTINATION_CREDITED,
            actor=_actor(peer.origin),
            data={"blocks": told.blocks, "hub": peer.origin},
        )
        transfer.attempts, transfer.last_error = 0, None
        transfer.next_attempt_at = datetime.now(UTC)  # the worker completes it (exports the pieces)
        self.session.add_all([transfer, row])
        self.session.flush()
        return _answer(row)

    # -- at the destination's hub --------------------------------------------------------------

    def receive_offer(self, peer: HubPeer, offer: TransferOffer) -> ExchangeAnswer:
        """Check an offer and record it (offered: nothing credited until the origin commits)."""
        known = self.repository.by_id(offer.transfer_id, Side.DESTINATION)
        if known is not None:
            if known.peer_origin != peer.origin:
                raise Conflict(f"transfer {offer.transfer_id} came from another hub", code="6011")
            if known.phase == Phase.ABORTED and not known.request:
                known.request = offer.model_dump()  # aborted before its offer arrived: stays aborted
                self.session.add(known)
                return _answer(known)
            if known.request != offer.model_dump():
                raise Conflict(f"transfer {offer.transfer_id} was offered with another body", code="6011")
            return _answer(known)  # offered again
        destination, origin = offer.destination_registry, offer.origin_registry
        platforms = PlatformRepository(self.session)
        target = platforms.get(destination)
        if target is None or str(target.status) != "active":
            raise _refused(
                "/destination_registry", "2024", f"this hub serves no active platform {destination}"
            )
        if offer.to_account.registry != destination:
            raise _refused(
                "/to_account/registry",
                "2005",
                f"the account is in {offer.to_account.registry}, not {destination}",
            )
        if origin not in peer.registries or platforms.get(origin) is not None:
            raise _refused("/origin_registry", "2004", f"{peer.origin} does not serve {origin}")
        self._check_blocks(offer)
        held = RegistryRepository(self.session).by_ids(
            r["block_id"] for r in arriving_rows(peer.origin, offer)
        )
        if held:
            raise _refused("/blocks", "6015", f"this hub registers {', '.join(sorted(held))} already")
        row = FederatedTransfer(
            peer_origin=peer.origin,
            transfer_id=offer.transfer_id,
            role=str(Side.DESTINATION),
            phase=str(Phase.OFFERED),
            origin_registry=origin,
            destination_registry=destination,
            quantity=offer.quantity,
            request=offer.model_dump(),
            history=[step(State.ACCEPTED, f"offered by {peer.origin}"), step(State.ORIGIN_LOCKED)],
        )
        self.repository.add(row)
        record_change(
            self.session,
            "transfer.offered",
            subject=("transfer", row.transfer_id),
            actor=_actor(peer.origin),
            platforms=[origin, destination],
            data={
                "hub": peer.origin,
                "blocks": [block.record["block_id"] for block in offer.blocks],
                "quantity": offer.quantity,
            },
        )
        self.session.flush()
        return _answer(row)

    def _check_blocks(self, offer: TransferOffer) -> None:
        total = 0
        for position, block in enumerate(offer.blocks):
            record = block.record
            issues = validate("credit-block", record)
            if issues:
                issue = issues[0]
                raise _refused(f"/blocks/{position}/record{issue.pointer}", issue.code, issue.detail)
            if record["current_registry"] != offer.origin_registry:
                raise _refused(
                    f"/blocks/{position}/record/current_registry",
                    "6015",
                    f"the block is held by {record['current_registry']}, not {offer.origin_registry}",
                )
            if record["status"] != BlockStatus.LOCKED:
                raise _refused(f"/blocks/{position}/record/status", "6015", "an offered block is locked")
            total += int(record["quantity"])
        if total != offer.quantity:
            raise _refused("/quantity", "6015", f"the blocks hold {total}, the offer says {offer.quantity}")

    def decide(self, peer: HubPeer, transfer_id: str, decision: TransferDecision) -> ExchangeAnswer:
        """The origin's decision on an offer: commit (the worker credits) or abort (final)."""
        if decision.transfer_id != transfer_id:
            raise _refused("/transfer_id", "6010", "the body names another transfer than the path")
        known = self.repository.by_id(transfer_id, Side.DESTINATION)
        if known is not None and known.peer_origin != peer.origin:
            raise NotTransferPeer(f"{peer.origin} did not offer transfer {transfer_id}", code="6012")
        row = self.repository.get(peer.origin, transfer_id, Side.DESTINATION, for_update=True)
        if row is None:
            if decision.decision == "commit":
                raise NotFound(f"no transfer {transfer_id} was offered by {peer.origin}", code="6010")
            # an abort overtaking its offer: kept, so the offer arriving later stays aborted
            row = FederatedTransfer(
                peer_origin=peer.origin,
                transfer_id=transfer_id,
                role=str(Side.DESTINATION),
                phase=str(Phase.ABORTED),
                origin_registry=decision.origin_registry,
                destination_registry=decision.destination_registry,
                quantity=0,
                request={},
                history=[step(State.TERMINATED, f"aborted by {peer.origin} before its offer arrived")],
            )
            self.repository.add(row)
            record_change(
                self.session,
                "transfer.aborted",
                subject=("transfer", transfer_id),
                actor=_actor(peer.origin),
                platforms=[decision.origin_registry, decision.destination_registry],
                data={"hub": peer.origin, "before_offer": True},
            )
            self.session.flush()
            return _answer(row)
        phase = Phase(row.phase)
        taken = "abort" if phase is Phase.ABORTED else None if phase is Phase.OFFERED else "commit"
        if taken == decision.decision:
            return _answer(row)  # told again
        if taken is not None:
            raise Conflict(
                f"transfer {transfer_id} is {row.phase}; it cannot {decision.decision}", code="6013"
            )
        if decision.decision == "commit":
            self._phase(row, Phase.COMMITTED, "transfer.committed", data={})
            row.next_attempt_at = datetime.now(UTC)
        else:
            self._phase(row, Phase.ABORTED, "transfer.aborted", data={})
            row.history = [*row.history, step(State.TERMINATED, f"aborted by {peer.origin}")]
        self.session.flush()
        return _answer(row)

    def credited(self, row: FederatedTransfer) -> None:
        """The destination's platform credited every block: register them held by the
        destination (imported, the transfer's account), complete, and tell the origin's hub."""
        offer = TransferOffer.model_validate(row.request)
        ClaimRepository(self.session).lock(sorted({b.record["serial_namespace"] for b in offer.blocks}))
        rows = arriving_rows(row.peer_origin, offer)
        existing = RegistryRepository(self.session).by_ids(r["block_id"] for r in rows)
        if existing:
            raise Conflict(f"blocks {sorted(existing)} are registered here already", code="6015")
        RegistryRepository(self.session).insert_block_rows(rows)
        ids = [str(r["block_id"]) for r in rows]
        row.credited = ids
        self._phase(
            row,
            Phase.COMPLETED,
            "transfer.imported",
            data={
                "blocks": ids,
                "quantity": row.quantity,
                "origin_registry": row.origin_registry,
                "transfer_id": row.transfer_id,
            },
        )
        row.history = [*row.history, step(State.DESTINATION_CREDITED), step(State.COMPLETED)]
        row.attempts, row.last_error = 0, None
        body = TransferOutcome(transfer_id=row.transfer_id, outcome="credited", blocks=ids).model_dump()
        self.outbox.enqueue(row.peer_origin, OUTCOME, row.transfer_id, outcome_path(row.transfer_id), body)

    def credit_refused(self, row: FederatedTransfer, reason: str) -> None:
        """The destination's platform refused the credit for good: refused, the origin told."""
        self._phase(row, Phase.REFUSED, "transfer.refused", data={"reason": reason[:300]})
        row.history = [*row.history, step(State.TERMINATED, reason[:300])]
        row.last_error = reason[:1000]
        body = TransferOutcome(
            transfer_id=row.transfer_id, outcome="refused", reason=reason[:2000]
        ).model_dump()
        self.outbox.enqueue(row.peer_origin, OUTCOME, row.transfer_id, outcome_path(row.transfer_id), body)


def arriving_rows(peer_origin: str, offer: TransferOffer) -> list[dict[str, Any]]:
    """The destination's blocks the offered pieces become: held by the destination registry
    (imported, the transfer's account), their ids derived as a local transfer's."""
    batch = str(uuid.uuid5(uuid.NAMESPACE_URL, f"puhui-xtransfer:{peer_origin}:{offer.transfer_id}"))
    account = offer.to_account.model_dump()
    return [
        derived_row(
            _as_block(block.record, block.root_block_id, batch),
            int(block.record["serial_start"]),
            int(block.record["serial_end"]),
            status=str(BlockStatus.IMPORTED),
            registry=offer.destination_registry,
            holder_account=account["account_id"],
            record_changes={"current_registry": offer.destination_registry, "holder": account},
        )
        for block in offer.blocks
    ]


def _as_block(record: dict[str, Any], root: str, batch: str) -> CreditBlock:
    """The offered piece as a (transient) block, to derive the destination's block from."""
    return CreditBlock(
        block_id=record["block_id"],
        origin_registry=record["origin_registry"],
        current_registry=record["current_registry"],
        serial_namespace=record["serial_namespace"],
        serial_start=record["serial_start"],
        serial_end=record["serial_end"],
        quantity=record["quantity"],
        vintage=record["vintage"],
        catalogue_id=record["methodology"]["catalogue_id"],
        project_registry=record["project"]["registry"],
        project_id=record["project"]["project_id"],
        holder_account=record["holder"]["account_id"],
        status=record["status"],
        record=record,
        batch_id=batch,
        root_block_id=None if root == record["block_id"] else root,
    )
