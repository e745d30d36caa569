"""The witness's HTTP interface: ``POST /witness/add-checkpoint`` exactly as c2sp.org/tlog-witness
has it (the submission prefix is ``<hub>/witness``; no authentication beyond the checkpoint's
signature), and ``/v1/witness/...`` for federation administrators: the logs this hub witnesses and
the alarms of split views."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, status
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from pydantic import BaseModel, ConfigDict, Field, RootModel

from hub.auth.actors import CurrentActor, enforce
from hub.auth.policy import can_manage_witness
from hub.auth.signing import SignedRequestDep
from hub.deps import KeyStoreDep, SessionDep, SettingsDep
from hub.idempotency.route import idempotent
from hub.problems import PROBLEM_MEDIA_TYPE, HubError, problem_body, problem_responses
from hub.records import Public
from hub.text import Text
from hub.witness.models import WitnessedLog, WitnessEvidence
from hub.witness.service import (
    SIZE_MEDIA_TYPE,
    Witness,
    WitnessAnswer,
    WitnessedLogs,
    describe,
)
from transparency.witness import MAX_BODY, Verdict

router = APIRouter(tags=["witness"])
ADD_CHECKPOINT = "/witness/add-checkpoint"


class CheckpointTooLarge(HubError):
    status = 413
    slug = "body-too-large"
    title = "Request body too large"


async def checkpoint_body(request: Request) -> bytes:
    """The request body, read on the event loop and never beyond ``MAX_BODY`` bytes (413, 1035)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > MAX_BODY:
        raise CheckpointTooLarge(f"an add-checkpoint request is at most {MAX_BODY} bytes", code="1035")
    chunks, seen = [], 0
    async for chunk in request.stream():
        seen += len(chunk)
        if seen > MAX_BODY:
            raise CheckpointTooLarge(f"an add-checkpoint request is at most {MAX_BODY} bytes", code="1035")
        chunks.append(chunk)
    return b"".join(chunks)


CheckpointBody = Annotated[bytes, Depends(checkpoint_body)]


class CosignatureLines(RootModel[str]):
    """One or more note signature lines (``— <witness name> <base64>``, each ending in a newline):
    the witness's cosignatures of the checkpoint (c2sp.org/tlog-cosignature)."""


SIZE_CONTENT = {
    SIZE_MEDIA_TYPE: {
        "schema": {
            "type": "string",
            "pattern": "^(0|[1-9][0-9]*)\n$",
            "description": "The size of the latest checkpoint cosigned for the origin, then a newline.",
        }
    }
}
PROBLEM_CONTENT = {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}


def _witness_responses() -> dict[int | str, dict[str, Any]]:
    responses = problem_responses(400, 403, 404, 413, 422)
    responses[200] = {"model": CosignatureLines, "description": "The witness's cosignature lines."}
    responses[403]["description"] = "No signature verifies with the origin's trusted keys"
    responses[404]["description"] = "The witness does not witness this origin"
    responses[409] = {
        "description": "The old size is not the latest cosigned size (text/x.tlog.size: that size); "
        "or the checkpoint has that size and another root (a problem: evidence of a split view)",
        "content": {**SIZE_CONTENT, **PROBLEM_CONTENT},
    }
    responses[422]["description"] = "The consistency proof does not verify (evidence of a fork)"
    return responses


def render(answer: WitnessAnswer, instance: str) -> Response:
    if answer.verdict is Verdict.COSIGN:
        return PlainTextResponse(answer.body, media_type=answer.media_type)
    if answer.verdict is Verdict.STALE:
        # exactly text/x.tlog.size (a text/* media type would otherwise get "; charset=utf-8")
        return Response(answer.body, status_code=409, headers={"Content-Type": SIZE_MEDIA_TYPE})
    body = problem_body(
        answer.status,
        "witness-" + answer.verdict.name.lower().replace("_", "-"),
        "The witness refuses the checkpoint",
        answer.reason,
        answer.code,
        instance=instance,
    )
    if answer.evidence_id is not None:
        body["evidence_id"] = answer.evidence_id
    return JSONResponse(body, status_code=answer.status, media_type=PROBLEM_MEDIA_TYPE)


@router.post(
    ADD_CHECKPOINT,
    summary="Submit a checkpoint and a consistency proof; answered with cosignatures (tlog-witness)",
    response_class=PlainTextResponse,
    responses=_witness_responses(),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"text/plain": {"schema": {"type": "string", "maxLength": MAX_BODY}}},
        }
    },
)
def add_checkpoint(
    body: CheckpointBody, session: SessionDep, settings: SettingsDep, keystore: KeyStoreDep
) -> Response:
    return render(Witness(session, settings, keystore).add_checkpoint(body), ADD_CHECKPOINT)


# administrators: the logs witnessed, the alarms


class WitnessedLogCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    origin: Text = Field(max_length=255, description="The log's origin line, e.g. gd.example/log.")
    vkeys: list[Text] = Field(min_length=1, max_length=16, description="Its note keys (signed-note vkeys).")
    base_url: Text | None = Field(
        default=None, max_length=2048, description="Where its checkpoint and tiles are fetched (monitoring)."
    )


class WitnessedLogPublic(Public):
    origin: str
    vkeys: list[str]
    base_url: str | None
    active: bool
    added_by: str
    added_at: datetime
    updated_at: datetime


class WitnessedLogRemoved(Public):
    origin: str
    removed: bool = True


class WitnessAlarmPublic(Public):
    """Evidence of a split view: the checkpoint cosigned before, the one refused, the proof sent."""

    id: int
    origin: str
    kind: str = Field(description="same-size-other-root or inconsistent-proof")
    source: str = Field(description="submitted (by the log), monitored (fetched), collected (our log)")
    reporter: str = Field(description="The witness that saw it.")
    stored_size: int | None
    stored_root: str | None
    stored_note: str
    refused_size: int | None
    refused_root: str | None
    refused_note: str
    proof: str
    received_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None


def log_public(log: WitnessedLog) -> WitnessedLogPublic:
    return WitnessedLogPublic(
        origin=log.origin,
        vkeys=[line for line in log.vkeys.split("\n") if line],
        base_url=log.base_url,
        active=log.active,
        added_by=log.added_by,
        added_at=log.added_at,
        updated_at=log.updated_at,
    )


def alarm_public(evidence: WitnessEvidence) -> WitnessAlarmPublic:
    return WitnessAlarmPublic.model_validate(describe(evidence))


@router.get("/v1/witness/logs", summary="The logs this hub witnesses (federation administrators)")
def list_logs(session: SessionDep, actor: CurrentActor) -> list[WitnessedLogPublic]:
    enforce(can_manage_witness(actor))
    return [log_public(log) for log in WitnessedLogs(session).listing()]


@router.post(
    "/v1/witness/logs",
    status_code=status.HTTP_201_CREATED,
    summary="Witness a log, or replace its keys (federation administrators)",
)
@idempotent
def add_log(
    body: WitnessedLogCreate, session: SessionDep, actor: CurrentActor, signed: SignedRequestDep
) -> WitnessedLogPublic:
    enforce(can_manage_witness(actor))
    log = WitnessedLogs(session).trust(body.origin, body.vkeys, actor.client_id, base_url=body.base_url)
    return log_public(log)


@router.delete("/v1/witness/logs/{origin:path}", summary="Stop witnessing a log (federation administrators)")
@idempotent
def remove_log(
    origin: str, session: SessionDep, actor: CurrentActor, signed: SignedRequestDep
) -> WitnessedLogRemoved:
    enforce(can_manage_witness(actor))
    WitnessedLogs(session).remove(origin, actor.client_id)
    return WitnessedLogRemoved(origin=origin)


@router.get(
    "/v1/witness/alarms", summary="Evidence of split views seen by this hub (federation administrators)"
)
def list_alarms(
    session: SessionDep,
    actor: CurrentActor,
    acknowledged: Annotated[bool, Query(description="Include the acknowledged ones.")] = False,
) -> list[WitnessAlarmPublic]:
    enforce(can_manage_witness(actor))
    found = WitnessedLogs(session).alarms(open_only=not acknowledged)
    return [alarm_public(evidence) for evidence in found]


@router.post(
    "/v1/witness/alarms/{alarm_id}/acknowledge",
    summary="Acknowledge an alarm: the console banner goes (federation administrators)",
)
@idempotent
def acknowledge_alarm(
    alarm_id: Annotated[int, Path(ge=1, le=2**31 - 1)],
    session: SessionDep,
    actor: CurrentActor,
    signed: SignedRequestDep,
) -> WitnessAlarmPublic:
    enforce(can_manage_witness(actor))
    return alarm_public(WitnessedLogs(session).acknowledge(alarm_id, actor.client_id))
