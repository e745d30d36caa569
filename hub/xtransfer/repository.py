"""The queries of cross-hub transfers."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlmodel import Session, col, select

from hub.xtransfer.models import FederatedTransfer, Side
from mutual_recognition.xtransfer_states import Phase


class TransferExchangeRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(
        self, peer_origin: str, transfer_id: str, side: Side, *, for_update: bool = False
    ) -> FederatedTransfer | None:
        return self.session.get(
            FederatedTransfer,
            (peer_origin, transfer_id, str(side)),
            with_for_update=for_update or None,
            populate_existing=for_update,
        )

    def by_id(self, transfer_id: str, side: Side) -> FederatedTransfer | None:
        """This hub's half of ``transfer_id`` in ``side``, whichever peer it crosses with."""
        return self.session.exec(
            select(FederatedTransfer).where(
                FederatedTransfer.transfer_id == transfer_id, FederatedTransfer.role == str(side)
            )
        ).first()

    def add(self, row: FederatedTransfer) -> FederatedTransfer:
        self.session.add(row)
        return row

    def due_credits(self, now: datetime, limit: int) -> Sequence[FederatedTransfer]:
        """Committed inbound transfers whose credit is due, locked for this worker (others skip)."""
        return self.session.exec(
            select(FederatedTransfer)
            .where(
                FederatedTransfer.role == str(Side.DESTINATION),
                FederatedTransfer.phase == str(Phase.COMMITTED),
                col(FederatedTransfer.next_attempt_at) <= now,
            )
            .order_by(col(FederatedTransfer.next_attempt_at))
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
