"""The peer worker: sends the peer outbox (forwarded recognitions, decisions) to peered hubs.

A message is written in the transaction that needs it; this worker leases each due message
(``next_attempt_at`` pushed past the call's timeout, committed), signs it afresh (a new ``iat``)
under the message's own ``jti`` and sends it. The answer is recorded with its effect in one
transaction: a 2xx delivered (and applied: the forward's evaluation, the decision's
countersignature); a refusal (4xx but 408, 425, 429) refused for good (a refused forward rejects
the recognition and releases its serials); anything else — the peer unreachable, a 5xx, the peering
suspended or unknown here — tried again with exponential backoff (capped at an hour), never
dropped: the peer acts once on a jti, so a message sent twice is answered as the first.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
from sqlmodel import Session

from hub.crosshub.models import DELIVERED, PENDING, REFUSED, PeerMessage
from hub.crosshub.outbound import DECISION, FORWARD
from hub.crosshub.repository import CrossHubRepository
from hub.crosshub.service import CrossHubService
from hub.database import Database
from hub.keystore import KeyStore
from hub.outbox import Outbox, attempted, retry_later
from hub.peering.client import PeerCallFailed, PeerClient
from hub.peering.models import PeerStatus
from hub.peering.repository import PeerRepository
from hub.settings import Settings
from hub.xtransfer.service import OFFER as TRANSFER_OFFER
from hub.xtransfer.service import TransferExchange

log = logging.getLogger("puhui.peers")
BATCH = 20
MAX_BACKOFF = 3600.0


@dataclass(frozen=True)
class Job:
    id: str
    peer_origin: str
    kind: str
    subject: str
    path: str
    body: dict[str, Any]
    attempts: int
    base_url: str | None


def _jobs(session: Session, due: Sequence[PeerMessage]) -> list[Job]:
    """Each message's job, with its peer's address while the peering is active."""
    peers = PeerRepository(session)
    jobs = []
    for message in due:
        peer = peers.by_origin(message.peer_origin)
        usable = peer is not None and peer.status == PeerStatus.ACTIVE
        jobs.append(
            Job(
                message.id, message.peer_origin, message.kind, message.subject, message.path,
                message.body, message.attempts, peer.base_url if usable and peer else None,
            )
        )  # fmt: skip
    return jobs


OUTBOX = Outbox(lambda session, now, limit: CrossHubRepository(session).due(now, limit), _jobs, BATCH)


class PeerWorker:
    def __init__(
        self,
        database: Database,
        keystore: KeyStore,
        settings: Settings,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.database = database
        self.keystore = keystore
        self.settings = settings
        self.transport = transport

    def _lease(self, now: datetime) -> list[Job]:
        return OUTBOX.lease(self.database, self.settings, now)

    def _send(self, job: Job) -> tuple[str, dict[str, Any] | None, str | None, Any]:
        """(status, answer, error, problem) of one attempt."""
        if job.base_url is None:
            return PENDING, None, f"{job.peer_origin} is not an active peer of this hub", None
        with PeerClient(
            job.base_url,
            issuer=self.settings.log_origin,
            audience=job.peer_origin,
            keystore=self.keystore,
            transport=self.transport,
            timeout=self.settings.webhook_timeout,
        ) as client:
            try:
                return DELIVERED, client.post(job.path, job.body, jti=job.id), None, None
            except PeerCallFailed as exc:
                return (PENDING if exc.retryable else REFUSED), None, str(exc), exc.problem

    def _record(
        self,
        job: Job,
        status: str,
        answer: dict[str, Any] | None,
        error: str | None,
        problem: Any,
        now: datetime,
    ) -> None:
        with self.database.unit_of_work() as session:
            message = CrossHubRepository(session).message(job.id, for_update=True)
            if message is None or message.status != PENDING:
                return
            attempted(message, job.attempts, error)
            if status == PENDING:
                retry_later(message, self.settings, now, cap=MAX_BACKOFF)
                session.add(message)
                return
            message.status, message.answered_at, message.answer = status, now, answer
            session.add(message)
            service = CrossHubService(session, self.settings, self.keystore)
            if job.kind == FORWARD and status == DELIVERED and answer is not None:
                service.accepted(job.subject, answer)
            elif job.kind == FORWARD:
                service.refused(job.subject, job.peer_origin, problem)
            elif job.kind == DECISION and status == DELIVERED and answer is not None:
                peer = PeerRepository(session).by_origin(job.peer_origin)
                if peer is not None:
                    service.countersigned(job.subject, peer, answer)
            elif job.kind == TRANSFER_OFFER:
                exchange = TransferExchange(session)
                if status == DELIVERED and answer is not None:
                    exchange.offer_answered(job.peer_origin, job.subject, answer, now)
                else:
                    exchange.offer_refused(job.peer_origin, job.subject, problem)
            elif status == REFUSED:
                log.warning(
                    "peer message %s %s refused by %s: %s", job.kind, job.subject, job.peer_origin, error
                )

    def run_once(self, now: datetime | None = None) -> int:
        """Send every due message once; how many were answered (delivered or refused)."""
        moment = now or datetime.now(UTC)
        answered = 0
        for job in self._lease(moment):
            try:
                status, answer, error, problem = self._send(job)
                self._record(job, status, answer, error, problem, now or datetime.now(UTC))
            except Exception as exc:  # a fault of this hub's side: tried again later
                log.exception(
                    "peer message %s %s to %s failed inside the hub", job.kind, job.subject, job.peer_origin
                )
                self._record(job, PENDING, None, f"internal error: {exc!r}", None, now or datetime.now(UTC))
                status = PENDING
            answered += status != PENDING
            if status != DELIVERED:
                log.info("peer message %s %s to %s: %s", job.kind, job.subject, job.peer_origin, status)
        return answered
