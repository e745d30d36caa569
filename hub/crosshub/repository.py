"""The queries of cross-hub recognitions and of the peer outbox."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from hub.crosshub.models import PENDING, FederatedRecognition, PeerMessage


class CrossHubRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def federated(self, recognition_id: str, *, for_update: bool = False) -> FederatedRecognition | None:
        return self.session.get(
            FederatedRecognition,
            recognition_id,
            with_for_update=for_update or None,
            populate_existing=for_update,
        )

    def add(self, row: FederatedRecognition) -> FederatedRecognition:
        self.session.add(row)
        return row

    def enqueue(
        self, peer_origin: str, kind: str, subject: str, path: str, body: dict[str, Any]
    ) -> PeerMessage:
        """A message to send after this transaction commits (never inside it)."""
        message = PeerMessage(
            id=str(uuid.uuid4()), peer_origin=peer_origin, kind=kind, subject=subject, path=path, body=body
        )
        self.session.add(message)
        return message

    def message(self, message_id: str, *, for_update: bool = False) -> PeerMessage | None:
        return self.session.get(PeerMessage, message_id, with_for_update=for_update or None)

    def messages_of(self, subject: str) -> Sequence[PeerMessage]:
        return self.session.exec(
            select(PeerMessage).where(PeerMessage.subject == subject).order_by(col(PeerMessage.created_at))
        ).all()

    def due(self, now: datetime, limit: int) -> Sequence[PeerMessage]:
        """Pending messages that are due, locked for this worker (others skip them)."""
        return self.session.exec(
            select(PeerMessage)
            .where(PeerMessage.status == PENDING, col(PeerMessage.next_attempt_at) <= now)
            .order_by(col(PeerMessage.next_attempt_at))
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
