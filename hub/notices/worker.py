"""The notice worker: tells origin platforms of retirements and completed transfers.

A notice is written in the transaction that retires or completes (the outbox); this worker sends
it afterwards, never inside a request's transaction. Each due notice is leased (its
``next_attempt_at`` pushed past the call's timeout, committed), sent through the platform's
client with the notice's own ``Idempotency-Key`` — a retirement notice alone
(:meth:`~adapters.contract.PlatformAPI.notify_retirement`), the round's transfer-completed
notices to one platform in one batch call
(:meth:`~adapters.contract.BatchNoticeAPI.notify_transfer_completed_many`: each notice its own
key and its own outcome; one call per notice to a client without it, and by the client to a
platform without the batch route) — and its answer recorded: 2xx acknowledged, a refusal (4xx
but 408, 425, 429) refused for good with the platform's reason (so is a 2xx that is not a JSON
object), anything else tried again with exponential backoff (at most an hour), dead after
``webhook_max_attempts`` — so is a notice whose answer cannot be told from a batch's (the answer
not one result per notice, a result naming another notice's key or without a status): never
acknowledged by it.
Once every notice of a retirement (of a transfer) is acknowledged, its ``origin_notified``
becomes true.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlmodel import Session

from adapters.client import call_each
from adapters.contract import BatchNoticeAPI, CallOutcome, PlatformAPIError
from adapters.registry import get
from hub.database import Database
from hub.notices.models import ACKNOWLEDGED, DEAD, PENDING, REFUSED
from hub.notices.repository import NoticeRepository
from hub.outbox import backoff
from hub.settings import Settings

log = logging.getLogger("puhui.notices")
BATCH = 200  # notices leased per round (a platform's transfer-completed ones: one batch call)
RETIREMENT, TRANSFER_COMPLETED = "retirement", "transfer-completed"


@dataclass(frozen=True)
class Job:
    kind: str
    subject: str
    platform: str
    key: str
    body: dict[str, Any]
    attempts: int


class NoticeWorker:
    def __init__(
        self, database: Database, settings: Settings, transport: httpx.BaseTransport | None = None
    ) -> None:
        self.database = database
        self.settings = settings
        self.transport = transport
        self.clients: dict[str, tuple[str, Any]] = {}  # platform -> (its address, its client)

    def _client(self, platform: str, base_url: str) -> Any:
        """The platform's client, kept for the worker's life (an ``httpx.Client`` costs tens of
        milliseconds to build: one per notice was most of a notice's cost); replaced when the
        platform's address changed."""
        kept = self.clients.get(platform)
        if kept is None or kept[0] != base_url:
            if kept is not None:
                kept[1].close()
            client = get(platform).client(base_url, self.transport, timeout=self.settings.webhook_timeout)
            self.clients[platform] = kept = (base_url, client)
        return kept[1]

    def close(self) -> None:
        """Close the platform clients (the next round opens them again)."""
        for _, client in self.clients.values():
            client.close()
        self.clients.clear()

    def _lease(self, now: datetime) -> tuple[list[Job], dict[str, str]]:
        until = now + timedelta(seconds=self.settings.webhook_timeout * 2)
        with self.database.unit_of_work() as session:
            notices = NoticeRepository(session)
            jobs = [
                Job(
                    n["kind"],
                    n["subject"],
                    n["platform_code"],
                    n["idempotency_key"],
                    n["body"],
                    n["attempts"],
                )
                for n in notices.lease(now, BATCH, until)
            ]
            return jobs, notices.api_base_urls({job.platform for job in jobs})

    def _send(self, job: Job, base_url: str) -> tuple[str, str | None]:
        """The notice's new status and the error, if any."""
        if not base_url:
            return PENDING, f"{job.platform} has no API address"
        client = self._client(job.platform, base_url)
        try:
            if job.kind == RETIREMENT:
                client.notify_retirement(job.body, idempotency_key=job.key)
            else:
                client.notify_transfer_completed(job.body, idempotency_key=job.key)
        except PlatformAPIError as exc:  # refused (or answered malformed): final; else tried again
            return (PENDING if exc.retryable else REFUSED), str(exc)
        return ACKNOWLEDGED, None

    def _attempt(self, job: Job, base_url: str) -> tuple[str, str | None]:
        """:meth:`_send`, a fault of the hub's own side recorded as a failure for now."""
        try:
            return self._send(job, base_url)
        except Exception as exc:  # a fault of the hub's side: tried again later
            log.exception("notice %s %s to %s failed inside the hub", job.kind, job.subject, job.platform)
            return PENDING, f"internal error: {exc!r}"

    def _send_many(self, platform: str, base_url: str, jobs: list[Job]) -> list[tuple[str, str | None]]:
        """The transfer-completed notices ``jobs`` to one platform in one batch call; each
        notice's new status and error. Should the hub's side of the batch fail, each is sent on
        its own (one bad notice holds back no other)."""
        calls = [(job.body, job.key) for job in jobs]
        try:
            client = self._client(platform, base_url)
            outcomes: list[CallOutcome]
            if isinstance(client, BatchNoticeAPI):
                outcomes = client.notify_transfer_completed_many(calls)
            else:
                outcomes = call_each(client.notify_transfer_completed, calls)
            if len(outcomes) != len(jobs):
                raise ValueError(f"{len(outcomes)} outcomes for {len(jobs)} notices")
        except Exception:
            log.exception("notices: a batch of %d to %s failed inside the hub", len(jobs), platform)
            return [self._attempt(job, base_url) for job in jobs]
        return [answer_of(outcome) for outcome in outcomes]

    def _apply(self, session: Session, job: Job, status: str, error: str | None, now: datetime) -> None:
        notices = NoticeRepository(session)
        if status == ACKNOWLEDGED:
            notices.lock_subject(job.kind, job.subject)
        notice = notices.get(job.kind, job.subject, job.platform)
        if notice is None or notice.status != PENDING:
            return
        notice.attempts = job.attempts + 1
        notice.last_error = error[:1000] if error else None
        if status == PENDING:
            if notice.attempts >= self.settings.webhook_max_attempts:
                notice.status = DEAD
            else:
                wait = backoff(self.settings.webhook_backoff, notice.attempts)
                notice.next_attempt_at = now + timedelta(seconds=wait)
        else:
            notice.status, notice.answered_at = status, now
        session.add(notice)
        session.flush()
        if status == ACKNOWLEDGED and notices.all_acknowledged(job.kind, job.subject):
            mark_notified(notices, job.kind, job.subject)

    def _apply_transfers(
        self, session: Session, answers: list[tuple[Job, str, str | None]], now: datetime
    ) -> None:
        """:meth:`_apply` for the answers to transfer-completed notices, on rows: the
        acknowledged transfers locked in id order, the notices' answers written in one statement,
        and ``origin_notified`` set in one more on every transfer whose notices are all
        acknowledged now."""
        if not answers:
            return
        notices = NoticeRepository(session)
        requests = notices.lock_transfers(
            [job.subject for job, status, _ in answers if status == ACKNOWLEDGED]
        )
        found = notices.states(TRANSFER_COMPLETED, [job.subject for job, _, _ in answers])
        rows, acknowledged = [], set()
        for job, status, error in answers:
            state = found.get((job.subject, job.platform))
            if state is None or state["status"] != PENDING:
                continue
            row = {"kind": job.kind, "subject": job.subject, "platform_code": job.platform, **state}
            row |= {"attempts": job.attempts + 1, "last_error": error[:1000] if error else None}
            if status == PENDING:
                if row["attempts"] >= self.settings.webhook_max_attempts:
                    row["status"] = DEAD
                else:
                    wait = backoff(self.settings.webhook_backoff, row["attempts"])
                    row["next_attempt_at"] = now + timedelta(seconds=wait)
            else:
                row["status"], row["answered_at"] = status, now
                acknowledged.add(job.subject)
            state["status"] = row["status"]
            rows.append(row)
        notices.write_answers(rows)
        done = {subject for subject, _ in found} - {
            s for (s, _), v in found.items() if v["status"] != ACKNOWLEDGED
        }
        notices.set_requests(
            [
                {"id": subject, "request": {**requests[subject], "origin_notified": True}}
                for subject in sorted(acknowledged & done)
                if subject in requests and not requests[subject].get("origin_notified")
            ]
        )

    def _record(self, job: Job, status: str, error: str | None, now: datetime) -> None:
        with self.database.unit_of_work() as session:
            self._apply(session, job, status, error, now)

    def _record_all(self, answers: list[tuple[Job, str, str | None]], now: datetime) -> None:
        """Record a round's answers in one transaction (the subjects' rows locked in order, as
        the transfer worker locks them); should it fail, each on its own."""
        ordered = sorted(answers, key=lambda answer: (answer[0].kind, answer[0].subject, answer[0].platform))
        try:
            with self.database.unit_of_work() as session:
                for job, status, error in ordered:
                    if job.kind != TRANSFER_COMPLETED:
                        self._apply(session, job, status, error, now)
                self._apply_transfers(
                    session, [answer for answer in ordered if answer[0].kind == TRANSFER_COMPLETED], now
                )
            return
        except Exception:
            log.exception("notices: a round's %d answers could not be recorded together", len(answers))
        for job, status, error in ordered:
            self._record(job, status, error, now)

    def run_once(self, now: datetime | None = None) -> int:
        """Send every due notice once — a platform's transfer-completed notices in one batch call
        — then record the answers together; how many were acknowledged."""
        moment = now or datetime.now(UTC)
        jobs, urls = self._lease(moment)
        answers: list[tuple[Job, str, str | None]] = []
        batches: dict[str, list[Job]] = defaultdict(list)
        for job in jobs:
            if job.kind == TRANSFER_COMPLETED and urls.get(job.platform):
                batches[job.platform].append(job)
            else:
                answers.append((job, *self._attempt(job, urls.get(job.platform, ""))))
        for platform, batch in batches.items():
            sent = self._send_many(platform, urls[platform], batch)
            answers += [(job, status, error) for job, (status, error) in zip(batch, sent, strict=True)]
        for job, _, error in answers:
            if error:
                log.info("notice %s %s to %s: %s", job.kind, job.subject, job.platform, error)
        if answers:
            self._record_all(answers, now or datetime.now(UTC))
        return sum(status == ACKNOWLEDGED for _, status, _ in answers)


def answer_of(outcome: CallOutcome) -> tuple[str, str | None]:
    """A notice's new status and error from its call's outcome: acknowledged; failed for now
    (pending, tried again); or refused for good (a refusal, a malformed answer)."""
    if outcome is None:
        return ACKNOWLEDGED, None
    if isinstance(outcome, PlatformAPIError) and outcome.retryable:
        return PENDING, str(outcome)
    return REFUSED, str(outcome)


def mark_notified(notices: NoticeRepository, kind: str, subject: str) -> None:
    """The subject's stored ``origin_notified`` becomes true (every origin acknowledged)."""
    if kind == RETIREMENT:
        registry, _, retirement_id = subject.partition(":")
        notices.mark_retirement_notified(registry, retirement_id)
    else:
        notices.mark_transfer_notified(subject)
