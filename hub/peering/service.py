"""Registering, suspending, reactivating and removing peered hubs, each change in the log."""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session

from hub.log.changes import record_change
from hub.peering.models import HubPeer, PeerStatus
from hub.peering.repository import PeerRepository
from hub.platforms.service import checked_jwks
from hub.problems import Conflict, NotFound, SchemaViolation
from hub.witness.service import WitnessedLogs
from schemas.validation import Issue
from transparency.note import COSIGNATURE_V1, ED25519, NoteError, parse_vkey

REGISTRY_CODE = re.compile(r"^[A-Z][A-Z0-9]{1,15}$")
SUBJECT = "hub-peer"
WITNESS_NAME_TAKEN = "1056"


def _invalid(pointer: str, detail: str, code: str = "2023") -> SchemaViolation:
    return SchemaViolation(f"{pointer}: {detail}", code=code, errors=[Issue(pointer, code, detail)])


def checked_vkeys(vkeys: Sequence[str], pointer: str, *, signature_type: int, name: str | None) -> list[str]:
    """Each vkey parses (c2sp.org/signed-note), has ``signature_type`` and (when given) ``name``."""
    if not vkeys:
        raise _invalid(pointer, "at least one vkey is needed")
    kind = "an Ed25519 note key (type 0x01)" if signature_type == ED25519 else "a cosignature key (type 0x04)"
    for position, vkey in enumerate(vkeys):
        try:
            verifier = parse_vkey(vkey)
        except NoteError as exc:
            raise _invalid(f"{pointer}/{position}", str(exc)) from exc
        if verifier.signature_type != signature_type:
            raise _invalid(f"{pointer}/{position}", f"not {kind}")
        if name is not None and verifier.name != name:
            raise _invalid(
                f"{pointer}/{position}", f"the key name is {verifier.name!r}, not the origin {name!r}"
            )
    return list(vkeys)


class PeerService:
    def __init__(self, session: Session, own_origin: str) -> None:
        self.session = session
        self.own_origin = own_origin
        self.peers = PeerRepository(session)

    def _registries(self, registries: Sequence[str], origin: str) -> list[str]:
        if not registries:
            raise _invalid("/registries", "a peer serves at least one registry", code="1002")
        local = set(self.peers.local_registries())
        for position, code in enumerate(registries):
            pointer = f"/registries/{position}"
            if not REGISTRY_CODE.match(code):
                raise _invalid(pointer, f"{code!r} is not a registry code (e.g. GD, CCER)", code="1002")
            if code in local:
                raise _invalid(pointer, f"{code} is a platform of this hub", code="2022")
            other = self.peers.serving(code)
            if other is not None and other.origin != origin:
                raise _invalid(pointer, f"{code} is served by the peer {other.origin}", code="2022")
        if len(set(registries)) != len(registries):
            raise _invalid("/registries", "a registry is named twice", code="1002")
        return sorted(registries)

    def _witness_names(self, vkeys: Sequence[str], origin: str) -> None:
        """A peer's witness key names are its own: the hub's policy names each peer's witnesses by
        them (``<name>``, ``<name>~2`` for its later keys, grouped by what precedes ``~``), so a
        name another peer uses — or one with ``~`` — would put this peer's key in that peer's place
        (1056)."""
        taken = {
            parse_vkey(vkey).name
            for peer in self.peers.listing()
            if peer.origin != origin
            for vkey in peer.witness_vkeys
        }
        for position, vkey in enumerate(vkeys):
            name = parse_vkey(vkey).name
            if "~" in name or name in taken:
                raise _invalid(
                    f"/witness_vkeys/{position}",
                    f"the witness key name {name!r} holds '~' or is another peer's",
                    code=WITNESS_NAME_TAKEN,
                )

    def register(
        self,
        *,
        origin: str,
        base_url: str,
        jwks: dict[str, Any],
        log_vkeys: Sequence[str],
        witness_vkeys: Sequence[str],
        registries: Sequence[str],
        actor: str,
    ) -> HubPeer:
        """A new peering (or a removed one registered again); 409 2021 when it exists."""
        if origin == self.own_origin:
            raise _invalid("/origin", "that is this hub's own origin", code="2022")
        found = self.peers.by_origin(origin, for_update=True)
        if found is not None and found.status != PeerStatus.REMOVED:
            raise Conflict(f"a peering with {origin} is already registered ({found.id})", code="2021")
        checked: dict[str, Any] = {
            "base_url": base_url.rstrip("/"),
            "jwks": checked_jwks(jwks, "/jwks"),
            "log_vkeys": checked_vkeys(log_vkeys, "/log_vkeys", signature_type=ED25519, name=origin),
            "witness_vkeys": checked_vkeys(
                witness_vkeys, "/witness_vkeys", signature_type=COSIGNATURE_V1, name=None
            ),
            "registries": self._registries(registries, origin),
        }
        self._witness_names(checked["witness_vkeys"], origin)
        now = datetime.now(UTC)
        peer = found or HubPeer(
            id=str(uuid.uuid4()), origin=origin, registered_by=actor, changed_by=actor, **checked
        )
        for name, value in checked.items():
            setattr(peer, name, value)
        peer.status, peer.registered_by, peer.registered_at = PeerStatus.ACTIVE, actor, now
        peer.changed_by, peer.changed_at = actor, now
        self.peers.add(peer)
        self._log(peer, "peer.registered", actor, {"base_url": peer.base_url, "registries": peer.registries})
        # the hubs witness each other: this hub witnesses the peer's log (and monitors it)
        WitnessedLogs(self.session).trust(origin, peer.log_vkeys, actor, base_url=peer.base_url)
        return peer

    def get(self, peer_id: str, *, for_update: bool = False) -> HubPeer:
        found = self.peers.get(peer_id, for_update=for_update)
        if found is None or found.status == PeerStatus.REMOVED:
            raise NotFound(f"no peer {peer_id}", code="2025")
        return found

    def by_origin(self, origin: str) -> HubPeer:
        found = self.peers.by_origin(origin)
        if found is None or found.status == PeerStatus.REMOVED:
            raise NotFound(f"no peer {origin}", code="2025")
        return found

    def _move(
        self, peer: HubPeer, status: PeerStatus, event: str, actor: str, allowed: set[PeerStatus]
    ) -> HubPeer:
        if PeerStatus(peer.status) not in allowed:
            raise Conflict(f"peer {peer.origin} is {peer.status}", code="6002")
        peer.status, peer.changed_by, peer.changed_at = status, actor, datetime.now(UTC)
        self.peers.add(peer)
        self._log(peer, event, actor, {})
        return peer

    def suspend(self, peer_id: str, *, actor: str) -> HubPeer:
        peer = self.get(peer_id, for_update=True)
        return self._move(peer, PeerStatus.SUSPENDED, "peer.suspended", actor, {PeerStatus.ACTIVE})

    def reactivate(self, peer_id: str, *, actor: str) -> HubPeer:
        peer = self.get(peer_id, for_update=True)
        return self._move(peer, PeerStatus.ACTIVE, "peer.reactivated", actor, {PeerStatus.SUSPENDED})

    def remove(self, peer_id: str, *, actor: str) -> HubPeer:
        peer = self.get(peer_id, for_update=True)
        allowed = {PeerStatus.ACTIVE, PeerStatus.SUSPENDED}
        removed = self._move(peer, PeerStatus.REMOVED, "peer.removed", actor, allowed)
        witnessed = WitnessedLogs(self.session)
        if any(log.origin == peer.origin and log.active for log in witnessed.listing()):
            witnessed.remove(peer.origin, actor)
        return removed

    def _log(self, peer: HubPeer, event: str, actor: str, data: dict[str, Any]) -> None:
        record_change(
            self.session,
            event,
            subject=(SUBJECT, peer.id),
            actor=actor,
            data={"origin": peer.origin, "status": peer.status, **data},
        )
