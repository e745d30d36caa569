"""The queries of the peering registry."""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session, col, select

from hub.peering.models import HubPeer, PeerStatus
from hub.platforms.models import Platform


class PeerRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, peer_id: str, *, for_update: bool = False) -> HubPeer | None:
        return self.session.get(HubPeer, peer_id, with_for_update=for_update or None)

    def by_origin(self, origin: str, *, for_update: bool = False) -> HubPeer | None:
        query = select(HubPeer).where(HubPeer.origin == origin)
        if for_update:
            query = query.with_for_update()
        return self.session.exec(query).first()

    def listing(self, *, with_removed: bool = False) -> Sequence[HubPeer]:
        query = select(HubPeer)
        if not with_removed:
            query = query.where(HubPeer.status != PeerStatus.REMOVED)
        return self.session.exec(query.order_by(col(HubPeer.origin))).all()

    def serving(self, registry: str) -> HubPeer | None:
        """The registered (active or suspended) peer serving ``registry``, if any."""
        return next((peer for peer in self.listing() if registry in peer.registries), None)

    def local_registries(self) -> list[str]:
        """The registries this hub serves: its registered platforms."""
        return sorted(self.session.exec(select(Platform.code)).all())

    def add(self, peer: HubPeer) -> HubPeer:
        self.session.add(peer)
        self.session.flush()
        return peer
