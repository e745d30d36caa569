"""The destination hub's worker of cross-hub transfers: credits its own platform for each
committed inbound transfer (docs/federation-transfers.md).

A round leases the due committed transfers (``next_attempt_at`` pushed past the calls' timeout,
committed), calls the destination platform's credit for every block (one idempotency key per
transfer and serials: a repeated call after a crash gets the same answer), and records each
transfer's result in its own transaction, re-reading its phase under lock: credited (the blocks
registered, the outcome queued for the origin's hub), refused for good (a 4xx that is not 408,
425 or 429, or a block the platform's format cannot carry: the outcome queued), or anything else
(unreachable, 5xx, a fault here): tried again with exponential backoff, **never given up** — the
origin's hub committed and waits for a definitive answer (giving up on a call whose answer was
lost could credit the serials here and unlock them at the origin).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from adapters.client import idempotency_key_for
from adapters.contract import AdapterError, PlatformAPIError
from adapters.registry import get
from hub.database import Database
from hub.outbox import backoff
from hub.platforms.repository import PlatformRepository
from hub.settings import Settings
from hub.transfers.saga import many, serials_key
from hub.xtransfer.models import Side
from hub.xtransfer.public import TransferOffer
from hub.xtransfer.repository import TransferExchangeRepository
from hub.xtransfer.service import TransferExchange
from mutual_recognition.xtransfer_states import Phase

log = logging.getLogger("puhui.transfers")
LEASE = timedelta(seconds=60)
ROUND = 50
MAX_BACKOFF = 3600.0


@dataclass(frozen=True)
class Credit:
    peer_origin: str
    transfer_id: str
    destination: str
    base_url: str
    attempts: int
    blocks: list[dict[str, Any]]


class InboundTransferWorker:
    def __init__(
        self, database: Database, settings: Settings, transport: httpx.BaseTransport | None = None
    ) -> None:
        self.database = database
        self.settings = settings
        self.transport = transport

    def _lease(self, now: datetime) -> list[Credit]:
        with self.database.unit_of_work() as session:
            platforms = PlatformRepository(session)
            found = []
            for row in TransferExchangeRepository(session).due_credits(now, ROUND):
                row.next_attempt_at = now + max(LEASE, timedelta(seconds=2 * self.settings.webhook_timeout))
                session.add(row)
                platform = platforms.get(row.destination_registry)
                offer = TransferOffer.model_validate(row.request)
                account = offer.to_account.model_dump()
                blocks = [
                    {
                        **block.record,
                        "current_registry": row.destination_registry,
                        "holder": account,
                        "status": "imported",
                    }
                    for block in offer.blocks
                ]
                found.append(
                    Credit(
                        row.peer_origin,
                        row.transfer_id,
                        row.destination_registry,
                        platform.api_base_url if platform is not None else "",
                        row.attempts,
                        blocks,
                    )
                )
            return found

    def _call(self, credit: Credit) -> tuple[str | None, bool]:
        """(error, final) of crediting every block of ``credit``: (None, _) when all were credited."""
        calls = [
            (block, idempotency_key_for("credit", credit.transfer_id, *serials_key(block)))
            for block in credit.blocks
        ]
        client = get(credit.destination).client(
            credit.base_url, self.transport, timeout=self.settings.webhook_timeout
        )
        try:
            outcomes = many(client, "credit", calls)
        finally:
            client.close()
        for outcome in outcomes:
            if isinstance(outcome, AdapterError):
                return str(outcome), True
            if isinstance(outcome, PlatformAPIError):
                return str(outcome), not outcome.retryable
        return None, False

    def _record(self, credit: Credit, error: str | None, final: bool, now: datetime) -> bool:
        with self.database.unit_of_work() as session:
            repository = TransferExchangeRepository(session)
            row = repository.get(credit.peer_origin, credit.transfer_id, Side.DESTINATION, for_update=True)
            if row is None or row.phase != Phase.COMMITTED:
                return False  # recorded meanwhile
            exchange = TransferExchange(session)
            if error is None:
                exchange.credited(row)
                return True
            if final:
                exchange.credit_refused(row, error)
                return True
            row.attempts = credit.attempts + 1
            row.last_error = error[:1000]
            wait = backoff(self.settings.webhook_backoff, row.attempts, MAX_BACKOFF)
            row.next_attempt_at = now + timedelta(seconds=wait)
            session.add(row)
            return False

    def run_once(self, now: datetime | None = None) -> int:
        """Credit every due committed transfer once; how many reached an outcome."""
        moment = now or datetime.now(UTC)
        done = 0
        for credit in self._lease(moment):
            try:
                error, final = self._call(credit)
            except Exception as exc:  # a fault of this hub's side: tried again later
                log.exception(
                    "cross-hub transfer %s: the credit call failed inside the hub", credit.transfer_id
                )
                error, final = f"internal error: {exc!r}", False
            try:
                done += self._record(credit, error, final, moment)
            except Exception as exc:
                log.exception("cross-hub transfer %s: its credit could not be recorded", credit.transfer_id)
                self._record(credit, f"internal error recording the credit: {exc!r}", False, moment)
        return done

    def close(self) -> None:
        """Nothing kept between rounds."""
