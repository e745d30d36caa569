"""The log in the C2SP formats: the cosigned checkpoint (c2sp.org/tlog-checkpoint), tiles and
entry bundles (c2sp.org/tlog-tiles), the hub's trust policy (c2sp.org/tlog-policy), and offline
proofs (c2sp.org/tlog-proof) of certificates, transfer completions and retirements.

The checkpoint, tiles and policy are public, like the rest of the log. A proof is read by whoever
may read its object.
"""

from __future__ import annotations

import gzip
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import PlainTextResponse

from hub.auth.actors import CurrentActor, target_of
from hub.auth.policy import can_read_recognition
from hub.auth.principal import CurrentPrincipal
from hub.crosshub.repository import CrossHubRepository
from hub.crosshub.verify import own_log_index
from hub.deps import KeyStoreDep, SessionDep, SettingsDep
from hub.problems import NotFound, problem_responses
from hub.recognition.repository import RecognitionRepository
from hub.retirement.service import RetirementService
from hub.tlog.checkpoints import CheckpointService
from hub.tlog.policy import WitnessPolicy, no_witnesses, policy_text
from hub.tlog.proofs import ProofService
from hub.tlog.public import (
    CHECKPOINT_CACHE,
    NO_CHECKPOINT,
    PROOF_MEDIA_TYPE,
    TILE_CACHE,
    TILE_MEDIA_TYPE,
    content,
)
from hub.tlog.tiles import TileReader
from hub.transfers.service import TransferService
from transparency.proof import EXTENSION, TlogProof

router = APIRouter(tags=["log"])
NOTE_MEDIA_TYPE = "text/plain; charset=utf-8"


class NoteResponse(PlainTextResponse):
    """A signed note or policy text, ``text/plain; charset=utf-8``."""

    media_type = "text/plain"


class TileResponse(Response):
    media_type = TILE_MEDIA_TYPE


@router.get(
    "/log/checkpoint",
    summary="The latest cosigned checkpoint of the log (c2sp.org/tlog-checkpoint signed note)",
    response_class=NoteResponse,
    responses={**content("text/plain", "SignedNote"), **problem_responses(404)},
)
def checkpoint(session: SessionDep, settings: SettingsDep, keystore: KeyStoreDep) -> NoteResponse:
    latest = CheckpointService(session, settings, keystore).latest()
    if latest is None:
        raise NotFound("the log has no checkpoint yet; one is signed shortly", code=NO_CHECKPOINT)
    return NoteResponse(latest.render(), headers={"Cache-Control": CHECKPOINT_CACHE})


@router.get(
    "/log/tile/{path:path}",
    summary="A hash tile <L>/<N>[.p/<W>] or an entry bundle entries/<N>[.p/<W>] (c2sp.org/tlog-tiles)",
    response_class=TileResponse,
    responses={**content(TILE_MEDIA_TYPE, "TileBytes"), **problem_responses(404)},
)
def tile(path: str, request: Request, session: SessionDep) -> TileResponse:
    found, data = TileReader(session).read(f"tile/{path}")
    headers = {"Cache-Control": TILE_CACHE}
    if found.level is None:  # entry bundles SHOULD be compressed at the HTTP layer (tlog-tiles)
        headers["Vary"] = "Accept-Encoding"
        if accepts_gzip(request.headers.get("accept-encoding", "")):
            data, headers["Content-Encoding"] = gzip.compress(data, mtime=0), "gzip"
    return TileResponse(data, headers=headers)


def accepts_gzip(header: str) -> bool:
    """Whether an ``Accept-Encoding`` header accepts gzip: named, or by ``*``, with a quality above
    0 (RFC 9110 section 12.5.3; an explicit ``gzip`` wins over ``*``)."""
    qualities: dict[str, float] = {}
    for item in header.split(","):
        name, _, params = item.strip().partition(";")
        value = params.strip()
        try:
            qualities[name.strip().lower()] = (
                float(value.removeprefix("q=")) if value.startswith("q=") else 1.0
            )
        except ValueError:
            qualities[name.strip().lower()] = 0.0
    return qualities.get("gzip", qualities.get("*", 0.0)) > 0


def witness_policy(request: Request) -> WitnessPolicy:
    found: WitnessPolicy = getattr(request.app.state, "witness_policy", no_witnesses)
    return found


@router.get(
    "/log/policy",
    summary="This hub's trust policy: its log keys, witnesses and quorum (c2sp.org/tlog-policy)",
    response_class=NoteResponse,
    responses=content("text/plain", "TlogPolicy"),
)
def policy(
    request: Request, session: SessionDep, settings: SettingsDep, keystore: KeyStoreDep
) -> NoteResponse:
    witnesses = witness_policy(request)(session, settings)
    return NoteResponse(
        policy_text(settings, keystore, witnesses), headers={"Cache-Control": CHECKPOINT_CACHE}
    )


def _proof_response(proof: TlogProof, name: str) -> NoteResponse:
    return NoteResponse(
        proof.render(),
        headers={
            "Content-Disposition": f'attachment; filename="{name}{EXTENSION}"',
            "Cache-Control": "no-store",
        },
    )


PROOF_RESPONSES: dict[int | str, dict[str, Any]] = {
    **content(PROOF_MEDIA_TYPE, "TlogProof"),
    **problem_responses(404, 409),
}


@router.get(
    "/v1/recognitions/{recognition_id}/certificate/proof",
    summary="Offline proof (c2sp.org/tlog-proof) of the log entry of a recognition certificate",
    response_class=NoteResponse,
    responses=PROOF_RESPONSES,
)
def certificate_proof(
    recognition_id: str,
    session: SessionDep,
    settings: SettingsDep,
    keystore: KeyStoreDep,
    actor: CurrentActor,
) -> NoteResponse:
    item = RecognitionRepository(session).get(recognition_id)
    visible = item is not None and can_read_recognition(
        actor, target_of(session, item.origin), target_of(session, item.destination)
    )
    if item is None or not visible or item.certificate is None:
        raise NotFound(f"no certificate for recognition {recognition_id}")
    certificate = item.certificate
    across = CrossHubRepository(session).federated(item.id)
    index = own_log_index(certificate, across.signatures if across else [], settings.log_origin)
    proof = ProofService(session, settings, keystore).proof(index)
    return _proof_response(proof, str(certificate["certificate_id"]))


@router.get(
    "/v1/transfers/{transfer_id}/proof",
    summary="Offline proof (c2sp.org/tlog-proof) of the log entry of a transfer's completion",
    response_class=NoteResponse,
    responses=PROOF_RESPONSES,
)
def transfer_proof(
    transfer_id: str,
    session: SessionDep,
    settings: SettingsDep,
    keystore: KeyStoreDep,
    principal: CurrentPrincipal,
) -> NoteResponse:
    transfer = TransferService(session, timedelta(0)).get(transfer_id)
    if transfer is None or not (principal.owns(transfer.origin) or principal.owns(transfer.destination)):
        raise NotFound(f"no transfer {transfer_id}")
    service = ProofService(session, settings, keystore)
    return _proof_response(service.proof(service.transfer_completion(transfer_id)), transfer_id)


@router.get(
    "/v1/retirements/{retirement_id}/proof",
    summary="Offline proof (c2sp.org/tlog-proof) of the log entry of a retirement",
    response_class=NoteResponse,
    responses=PROOF_RESPONSES,
)
def retirement_proof(
    retirement_id: str,
    session: SessionDep,
    settings: SettingsDep,
    keystore: KeyStoreDep,
    principal: CurrentPrincipal,
) -> NoteResponse:
    found = (
        RetirementService(session).get(principal.platform_code, retirement_id)
        if principal.platform_code is not None
        else None
    )
    if found is None:
        raise NotFound(f"no retirement {retirement_id} of this platform")
    proof = ProofService(session, settings, keystore).proof(int(found["log_index"]))
    return _proof_response(proof, retirement_id)
