"""The lease loop of the transactional outboxes (the webhook deliveries, the peer messages).

A row of an outbox is written in the transaction that needs it and sent afterwards by a worker,
never inside that transaction. The worker first *leases* the due rows: in one transaction it takes
them (the repository's query locks them, other workers skip them), pushes each one's
``next_attempt_at`` past the call's timeout (twice ``webhook_timeout``) and commits, so a worker
that crashes mid-round leaves its rows due again once the lease runs out. After the call, the
attempt is counted (:func:`attempted`) and a row that is to be tried again gets its next attempt
after an exponential backoff (:func:`retry_later`). The queries stay in the outboxes' repositories:
the worker's :class:`Outbox` names its ``due`` query.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Generic, Protocol, TypeVar

from sqlmodel import Session

from hub.database import Database
from hub.settings import Settings

MAX_BACKOFF = 3600.0  # seconds: a row to try again is tried at least hourly


class OutboxRow(Protocol):
    attempts: int
    next_attempt_at: datetime
    last_error: str | None


Row = TypeVar("Row", bound=OutboxRow)
Job = TypeVar("Job")


@dataclass(frozen=True)
class Outbox(Generic[Row, Job]):
    """An outbox as its worker reads it: ``due`` (the repository's query of at most ``limit`` due
    rows, locked) and ``jobs`` (what the worker sends, made of the leased rows)."""

    due: Callable[[Session, datetime, int], Sequence[Row]]
    jobs: Callable[[Session, Sequence[Row]], list[Job]]
    limit: int

    def lease(self, database: Database, settings: Settings, now: datetime) -> list[Job]:
        """Lease the due rows (committed before any is sent); their jobs, made in the same
        transaction (none when nothing is due)."""
        until = now + timedelta(seconds=settings.webhook_timeout * 2)
        with database.unit_of_work() as session:
            rows = self.due(session, now, self.limit)
            if not rows:
                return []
            for row in rows:
                row.next_attempt_at = until
                session.add(row)
            return self.jobs(session, rows)


def attempted(row: OutboxRow, attempts_before: int, error: str | None) -> None:
    """One more attempt of ``row`` counted, and its error kept (the first 1000 characters; none
    when it succeeded)."""
    row.attempts = attempts_before + 1
    row.last_error = error[:1000] if error else None


def backoff(base: float, attempts: int, cap: float = MAX_BACKOFF) -> float:
    """Seconds to wait after ``attempts`` attempts: ``base`` doubled for each attempt after the
    first, at most ``cap`` — for any count (``PUHUI_WEBHOOK_MAX_ATTEMPTS`` has no ceiling; doubled
    without one, the wait fell past the calendar and the answer could not be recorded)."""
    doublings: int = min(max(attempts - 1, 0), 64)
    return min(base * float(2**doublings), cap)


def retry_later(row: OutboxRow, settings: Settings, now: datetime, cap: float = MAX_BACKOFF) -> None:
    """``row`` due again after ``webhook_backoff`` seconds doubled for each attempt after its first
    (at most ``cap`` seconds: :func:`backoff`)."""
    row.next_attempt_at = now + timedelta(seconds=backoff(settings.webhook_backoff, row.attempts, cap))
