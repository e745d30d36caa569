"""Queries of recognitions that other services ask."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlmodel import Session, col, or_, select

from hub.recognition.models import Recognition
from mutual_recognition.recognition_states import RecognitionState

COUNTED = (str(RecognitionState.APPROVED), str(RecognitionState.USED))
# the orders a review queue can be read in
QUEUE_ORDERS = {
    "oldest": col(Recognition.created_at),
    "newest": col(Recognition.created_at).desc(),
    "largest": col(Recognition.quantity).desc(),
    "smallest": col(Recognition.quantity),
}


class RecognitionRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def for_compliance(self, destination: str, compliance: Mapping[str, Any]) -> list[Recognition]:
        """Approved or used ETS recognitions in ``destination`` for this covered entity and year."""
        found = self.session.exec(
            select(Recognition).where(
                Recognition.destination == destination,
                Recognition.purpose == "ets-compliance",
                col(Recognition.status).in_(COUNTED),
            )
        )
        return [r for r in found if r.request.get("compliance") == dict(compliance)]

    def counted_in(self, destination: str) -> Sequence[Recognition]:
        """Approved or used recognitions in ``destination`` (purpose limits count them)."""
        return self.session.exec(
            select(Recognition).where(
                Recognition.destination == destination, col(Recognition.status).in_(COUNTED)
            )
        ).all()

    def involving(self, codes: Iterable[str], status: str | None = None) -> Sequence[Recognition]:
        """Recognitions asked by or of the platforms ``codes`` (of one ``status``), oldest first."""
        wanted = sorted(set(codes))
        query = select(Recognition).where(
            or_(col(Recognition.origin).in_(wanted), col(Recognition.destination).in_(wanted))
        )
        if status:
            query = query.where(Recognition.status == status)
        return self.session.exec(query.order_by(col(Recognition.created_at))).all()

    def get(self, recognition_id: str, *, for_update: bool = False) -> Recognition | None:
        """One recognition, or None; ``for_update`` locks its row (PostgreSQL; SQLite writers are
        serialized) and reads it again even when the session knows it."""
        return self.session.get(
            Recognition, recognition_id, with_for_update=for_update or None, populate_existing=for_update
        )

    def locked(self, recognition_id: str) -> Recognition | None:
        """One recognition, or None, its row locked (PostgreSQL; SQLite writers are serialized);
        unlike ``get(for_update=True)``, a copy the session holds keeps its attributes."""
        return self.session.get(Recognition, recognition_id, with_for_update=True)

    def id_of_request(self, origin: str, request_id: str) -> str | None:
        """The id of the recognition ``origin`` asked for with ``request_id``, or None."""
        return self.session.exec(
            select(Recognition.id).where(Recognition.origin == origin, Recognition.request_id == request_id)
        ).first()

    def origins_toward(self, destination: str) -> list[str]:
        """The platforms that asked ``destination`` for a recognition, in order."""
        return list(
            self.session.exec(
                select(Recognition.origin)
                .where(Recognition.destination == destination)
                .distinct()
                .order_by(col(Recognition.origin))
            ).all()
        )

    def toward(
        self,
        destination: str,
        statuses: Iterable[str],
        *,
        origin: str | None,
        purpose: str | None,
        order: str,
        offset: int,
        limit: int,
    ) -> Sequence[Recognition]:
        """Recognitions asked of ``destination`` in one of ``statuses`` (from ``origin``, for
        ``purpose`` when given), in ``order`` (a key of :data:`QUEUE_ORDERS`), the id breaking ties."""
        query = select(Recognition).where(
            Recognition.destination == destination, col(Recognition.status).in_(sorted(set(statuses)))
        )
        if origin:
            query = query.where(Recognition.origin == origin)
        if purpose:
            query = query.where(Recognition.purpose == purpose)
        return self.session.exec(
            query.order_by(QUEUE_ORDERS[order], col(Recognition.id)).offset(offset).limit(limit)
        ).all()
