"""The queries of the notice outbox."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select as sa_select
from sqlmodel import Session, SQLModel, col, select

from adapters.client import idempotency_key_for
from hub.models import utcnow
from hub.multirow import insert_rows, update_rows
from hub.notices.models import ACKNOWLEDGED, PENDING, OriginNotice
from hub.platforms.models import Platform
from hub.retirement.models import RetirementRecord
from hub.transfers.models import Transfer


class NoticeRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def enqueue(self, kind: str, subject: str, platform: str, body: dict[str, Any]) -> OriginNotice:
        """A notice to send (in the caller's transaction: sent after it commits, never inside)."""
        notice = OriginNotice(
            kind=kind,
            subject=subject,
            platform_code=platform,
            idempotency_key=idempotency_key_for(kind, subject, platform),
            body=body,
        )
        self.session.add(notice)
        return notice

    def enqueue_many(self, notices: list[dict[str, Any]]) -> None:
        """:meth:`enqueue` for many notices (each its ``kind``, ``subject``, ``platform_code``,
        ``idempotency_key`` and ``body``) in one statement."""
        if not notices:
            return
        now = utcnow()
        defaults = {"status": PENDING, "attempts": 0, "next_attempt_at": now, "last_error": None}
        defaults |= {"answered_at": None, "created_at": now}
        table = SQLModel.metadata.tables[str(OriginNotice.__tablename__)]
        insert_rows(self.session.connection(), table, [notice | defaults for notice in notices])

    def lock_transfers(self, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The requests of transfers ``ids``, their rows locked in id order (as the transfer
        worker locks them) until the transaction ends."""
        if not ids:
            return {}
        transfer = SQLModel.metadata.tables[str(Transfer.__tablename__)]
        query = (
            sa_select(transfer.c.id, transfer.c.request)
            .where(transfer.c.id.in_(sorted(set(ids))))
            .order_by(transfer.c.id)
            .with_for_update()
        )
        return {row.id: row.request for row in self.session.connection().execute(query)}

    def states(self, kind: str, subjects: Sequence[str]) -> dict[tuple[str, str], dict[str, Any]]:
        """Every notice of ``kind`` about ``subjects``, by subject and platform: its status, next
        attempt and answer time."""
        if not subjects:
            return {}
        notice = SQLModel.metadata.tables[str(OriginNotice.__tablename__)]
        query = sa_select(
            notice.c.subject,
            notice.c.platform_code,
            notice.c.status,
            notice.c.next_attempt_at,
            notice.c.answered_at,
        ).where(notice.c.kind == kind, notice.c.subject.in_(sorted(set(subjects))))
        return {
            (row.subject, row.platform_code): {
                "status": row.status,
                "next_attempt_at": row.next_attempt_at,
                "answered_at": row.answered_at,
            }
            for row in self.session.connection().execute(query)
        }

    def write_answers(self, rows: list[dict[str, Any]]) -> None:
        """Notices' ``status``, ``attempts``, ``last_error``, ``next_attempt_at`` and
        ``answered_at`` (by kind, subject and platform) written together."""
        table = SQLModel.metadata.tables[str(OriginNotice.__tablename__)]
        update_rows(self.session.connection(), table, ("kind", "subject", "platform_code"), rows)

    def set_requests(self, rows: list[dict[str, Any]]) -> None:
        """Transfers' ``request`` (by ``id``) written together."""
        table = SQLModel.metadata.tables[str(Transfer.__tablename__)]
        update_rows(self.session.connection(), table, "id", rows)

    def lease(self, now: datetime, limit: int, until: datetime) -> list[dict[str, Any]]:
        """Up to ``limit`` pending notices due at ``now``, oldest due first, locked for this worker
        (others skip them), their ``next_attempt_at`` pushed to ``until`` in one statement; each
        as its ``kind``, ``subject``, ``platform_code``, ``idempotency_key``, ``body`` and
        ``attempts``."""
        notice = SQLModel.metadata.tables[str(OriginNotice.__tablename__)]
        names = ("kind", "subject", "platform_code", "idempotency_key", "body", "attempts")
        query = (
            sa_select(*(notice.c[name] for name in names))
            .where(notice.c.status == PENDING, notice.c.next_attempt_at <= now)
            .order_by(notice.c.next_attempt_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        connection = self.session.connection()
        rows = [dict(row._mapping) for row in connection.execute(query)]
        keys = ("kind", "subject", "platform_code")
        update_rows(
            connection,
            notice,
            keys,
            [{**{k: row[k] for k in keys}, "next_attempt_at": until} for row in rows],
        )
        return rows

    def get(self, kind: str, subject: str, platform: str) -> OriginNotice | None:
        return self.session.get(OriginNotice, (kind, subject, platform))

    def of(self, kind: str, subject: str) -> Sequence[OriginNotice]:
        return self.session.exec(
            select(OriginNotice).where(OriginNotice.kind == kind, OriginNotice.subject == subject)
        ).all()

    def all_acknowledged(self, kind: str, subject: str) -> bool:
        """Whether every notice of the subject was acknowledged (True when it has none)."""
        return all(notice.status == ACKNOWLEDGED for notice in self.of(kind, subject))

    def api_base_urls(self, codes: set[str]) -> dict[str, str]:
        """The platforms' API addresses (those that have one)."""
        if not codes:
            return {}
        found = self.session.exec(select(Platform).where(col(Platform.code).in_(sorted(codes)))).all()
        return {platform.code: platform.api_base_url for platform in found if platform.api_base_url}

    def lock_subject(self, kind: str, subject: str) -> None:
        """Take the row of the notices' subject (the retirement, the transfer) first: two workers
        acknowledging two origins of one subject then see each other's answer, and one of them
        sets ``origin_notified``."""
        if kind == "retirement":
            registry, _, retirement_id = subject.partition(":")
            self.session.get(RetirementRecord, (registry, retirement_id), with_for_update=True)
        else:
            self.session.get(Transfer, subject, with_for_update=True)

    def mark_retirement_notified(self, registry: str, retirement_id: str) -> None:
        retirement = self.session.get(RetirementRecord, (registry, retirement_id), with_for_update=True)
        if retirement is not None and not retirement.record.get("origin_notified"):
            retirement.record = {**retirement.record, "origin_notified": True}
            self.session.add(retirement)

    def mark_transfer_notified(self, transfer_id: str) -> None:
        transfer = self.session.get(Transfer, transfer_id, with_for_update=True)
        if transfer is not None and not transfer.request.get("origin_notified"):
            transfer.request = {**transfer.request, "origin_notified": True}
            self.session.add(transfer)
