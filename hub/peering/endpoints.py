"""This hub's identity (public) and its peered hubs (federation administrators)."""

from __future__ import annotations

from fastapi import APIRouter, status

from hub.auth.actors import CurrentActor, enforce
from hub.auth.policy import may_manage_peers
from hub.auth.signing import SignedRequestDep
from hub.deps import KeyStoreDep, SessionDep, SettingsDep
from hub.idempotency.route import idempotent
from hub.identity import identity
from hub.peering.public import HubIdentityPublic, PeerCreate, PeerPublic, peer_public
from hub.peering.repository import PeerRepository
from hub.peering.service import PeerService

router = APIRouter(prefix="/v1", tags=["peering"])


@router.get("/hub", summary="This hub's identity: what another hub registers to peer with it")
def hub_identity(session: SessionDep, settings: SettingsDep, keystore: KeyStoreDep) -> HubIdentityPublic:
    registries = PeerRepository(session).local_registries()
    return HubIdentityPublic.model_validate(identity(settings, keystore, registries).as_dict())


@router.get("/peers", summary="The peered hubs (federation administrators)")
def list_peers(session: SessionDep, actor: CurrentActor) -> list[PeerPublic]:
    enforce(may_manage_peers(actor))
    return [peer_public(peer) for peer in PeerRepository(session).listing()]


@router.post("/peers", status_code=status.HTTP_201_CREATED, summary="Register a peered hub (administrators)")
@idempotent
def register_peer(
    body: PeerCreate,
    session: SessionDep,
    settings: SettingsDep,
    actor: CurrentActor,
    signed: SignedRequestDep,
) -> PeerPublic:
    enforce(may_manage_peers(actor))
    peer = PeerService(session, settings.log_origin).register(
        origin=body.origin,
        base_url=str(body.base_url),
        jwks=body.jwks,
        log_vkeys=body.log_vkeys,
        witness_vkeys=body.witness_vkeys,
        registries=body.registries,
        actor=actor.client_id,
    )
    return peer_public(peer)


@router.get("/peers/{peer_id}", summary="One peered hub (administrators)")
def get_peer(peer_id: str, session: SessionDep, settings: SettingsDep, actor: CurrentActor) -> PeerPublic:
    enforce(may_manage_peers(actor))
    return peer_public(PeerService(session, settings.log_origin).get(peer_id))


@router.post(
    "/peers/{peer_id}/suspend", summary="Suspend a peering: its requests are refused (administrators)"
)
@idempotent
def suspend_peer(
    peer_id: str, session: SessionDep, settings: SettingsDep, actor: CurrentActor, signed: SignedRequestDep
) -> PeerPublic:
    enforce(may_manage_peers(actor))
    return peer_public(PeerService(session, settings.log_origin).suspend(peer_id, actor=actor.client_id))


@router.post("/peers/{peer_id}/reactivate", summary="Reactivate a suspended peering (administrators)")
@idempotent
def reactivate_peer(
    peer_id: str, session: SessionDep, settings: SettingsDep, actor: CurrentActor, signed: SignedRequestDep
) -> PeerPublic:
    enforce(may_manage_peers(actor))
    return peer_public(PeerService(session, settings.log_origin).reactivate(peer_id, actor=actor.client_id))


@router.delete("/peers/{peer_id}", summary="Remove a peering (administrators); its keys are kept for audit")
@idempotent
def remove_peer(
    peer_id: str, session: SessionDep, settings: SettingsDep, actor: CurrentActor, signed: SignedRequestDep
) -> PeerPublic:
    enforce(may_manage_peers(actor))
    return peer_public(PeerService(session, settings.log_origin).remove(peer_id, actor=actor.client_id))
