"""Every query on stored answers."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import delete, text
from sqlmodel import Session, col

from hub.idempotency.models import IdempotencyRecord


class IdempotencyRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def take(self, client_id: str, key: str) -> bool:
        """Hold the key for this transaction; False when another transaction holds it (its first
        request is still running). PostgreSQL: a try-lock; SQLite runs one writer at a time, and
        every transaction here writes (``BEGIN IMMEDIATE``), so the key is always free."""
        if self.session.get_bind().dialect.name != "postgresql":
            return True
        taken = self.session.execute(
            text("SELECT pg_try_advisory_xact_lock(hashtextextended(:name, 0))"),
            {"name": f"idempotency {client_id} {key}"},
        ).scalar_one()
        return bool(taken)

    def find(self, client_id: str, key: str, now: datetime) -> IdempotencyRecord | None:
        found = self.session.get(IdempotencyRecord, (client_id, key))
        if found is None:
            return None
        expires = found.expires_at if found.expires_at.tzinfo else found.expires_at.replace(tzinfo=now.tzinfo)
        return found if expires > now else None

    def keep(self, client_id: str, key: str, fingerprint: str, answer: Any, expires_at: datetime) -> None:
        """Store (or, for a key whose record had expired, replace) the answer, as JSON text (a
        JSONB column would reorder its members: the answer sent again would differ in bytes)."""
        text = json.dumps(answer, ensure_ascii=False, separators=(",", ":"))
        self.session.merge(
            IdempotencyRecord(
                client_id=client_id, key=key, fingerprint=fingerprint, answer=text, expires_at=expires_at
            )
        )

    @staticmethod
    def answer_of(record: IdempotencyRecord) -> Any:
        return json.loads(record.answer)

    def purge(self, now: datetime) -> int:
        result = self.session.execute(
            delete(IdempotencyRecord).where(col(IdempotencyRecord.expires_at) < now)
        )
        return int(getattr(result, "rowcount", 0) or 0)
