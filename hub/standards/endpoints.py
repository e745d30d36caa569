"""Methodology catalogue, committee roots and rulesets over HTTP.

Reading standards is public (auditors verify offline what the hub enforces); publishing needs
``rulesets:publish`` and, above all, the committee's threshold of signatures.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Query, Request, status
from pydantic import BaseModel, ConfigDict, Field

from hub.auth.principal import CurrentPrincipal, Principal, require
from hub.auth.signing import SignedRequestDep
from hub.dates import IsoDate
from hub.deps import SessionDep
from hub.idempotency.route import idempotent
from hub.problems import BadRequest, problem_responses
from hub.standards.public import (
    BlockEvaluation,
    MethodologyRecord,
    RootEnvelope,
    RootPublic,
    RootRotated,
    RulesetDiff,
    RulesetPublished,
    RulesetSummary,
    ruleset_published,
)
from hub.standards.service import StandardsService, refusal
from hub.text import Integer, Text
from schemas.canonical import MAX_SAFE_INTEGER
from standards import (
    EvaluationInputError,
    ProjectFacts,
    PurposeUsage,
    StandardsError,
    evaluate,
    load_catalogue,
    render_diff,
)

router = APIRouter(tags=["standards"])
Publisher = Annotated[Principal, Depends(require("rulesets:publish"))]


async def raw_body(request: Request) -> str:
    """The body exactly as received (stored beside the parsed document)."""
    return (await request.body()).decode("utf-8", errors="replace")


RawBody = Annotated[str, Depends(raw_body)]


@router.get("/v1/methodologies", summary="The methodology catalogue (exchange schema: methodology)")
def methodologies(
    region: Annotated[
        str | None, Query(description="Only entries with a local code of this registry.")
    ] = None,
) -> list[MethodologyRecord]:
    return load_catalogue().as_records(region)


@router.get("/v1/standards/roots/{committee_id}", summary="A committee's trusted root (its envelope)")
def current_root(
    committee_id: str,
    session: SessionDep,
    version: Annotated[int | None, Query(ge=1, le=MAX_SAFE_INTEGER)] = None,
) -> RootPublic:
    record = StandardsService(session).root_record(committee_id, version)
    return RootPublic(
        committee_id=record.committee_id,
        version=record.version,
        envelope=RootEnvelope.model_validate(record.envelope),
    )


@router.post(
    "/v1/standards/root",
    status_code=status.HTTP_201_CREATED,
    summary="Rotate a committee root: version N+1 signed by the root thresholds of N and N+1",
)
@idempotent
def rotate_root(
    envelope: Annotated[dict[str, Any], Body()],
    received: RawBody,
    session: SessionDep,
    principal: Publisher,
    signed: SignedRequestDep,
) -> RootRotated:
    root = StandardsService(session).rotate_root(envelope, by=principal.client_id, received=received)
    return RootRotated(committee_id=root.committee_id, version=root.version)


@router.post(
    "/v1/rulesets",
    status_code=status.HTTP_201_CREATED,
    summary="Publish a signed ruleset; refused, naming who signed, below the committee's threshold",
)
@idempotent
def publish(
    envelope: Annotated[dict[str, Any], Body()],
    received: RawBody,
    session: SessionDep,
    principal: Publisher,
    signed: SignedRequestDep,
) -> RulesetPublished:
    return ruleset_published(
        StandardsService(session).publish(envelope, by=principal.client_id, received=received)
    )


@router.get("/v1/rulesets", summary="Every published ruleset version")
def listing(session: SessionDep) -> list[RulesetSummary]:
    return [
        RulesetSummary(
            ruleset_id=r.ruleset_id,
            version=r.version,
            committee=r.committee_id,
            digest={"alg": "sha-256", "value": r.digest},
            effective_from=r.effective_from.isoformat(),
            effective_until=r.effective_until.isoformat() if r.effective_until else None,
            signed_by=r.signed_by,
        )
        for r in StandardsService(session).listing()
    ]


@router.get(
    "/v1/rulesets/current",
    summary="The ruleset in force for an origin and a destination",
    responses=problem_responses(404),
)
def current(
    session: SessionDep,
    origin: Annotated[str, Query(pattern=r"^[A-Z][A-Z0-9]{1,15}$")],
    destination: Annotated[str, Query(pattern=r"^[A-Z][A-Z0-9]{1,15}$")],
    on: Annotated[IsoDate | None, Query(alias="date", description="Default: today (UTC).")] = None,
) -> RulesetPublished:
    return ruleset_published(StandardsService(session).current(origin, destination, on))


@router.get("/v1/rulesets/{ruleset_id}/versions/{version}", summary="One published version")
def version(
    ruleset_id: str, version: Annotated[int, Path(ge=1, le=MAX_SAFE_INTEGER)], session: SessionDep
) -> RulesetPublished:
    return ruleset_published(StandardsService(session).version(ruleset_id, version))


@router.get("/v1/rulesets/{ruleset_id}/diff", summary="What changed between two versions, readable")
def diff(
    ruleset_id: str,
    session: SessionDep,
    old: Annotated[int, Query(alias="from", ge=1, le=MAX_SAFE_INTEGER)],
    new: Annotated[int, Query(alias="to", ge=1, le=MAX_SAFE_INTEGER)],
) -> RulesetDiff:
    service = StandardsService(session)
    record = service.diff(ruleset_id, old, new)
    record["text"] = render_diff(
        service.version(ruleset_id, old).ruleset, service.version(ruleset_id, new).ruleset
    )
    return RulesetDiff.model_validate(record)


class EvaluationRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    block: dict[str, Any] = Field(description="A credit-block exchange record.")
    destination: Text = Field(pattern=r"^[A-Z][A-Z0-9]{1,15}$")
    purpose: Text
    on_date: IsoDate | None = Field(default=None, alias="date", description="Default: today (UTC).")
    project: dict[str, Any] | None = Field(default=None, description="The block's project record, if known.")
    verified_emissions: Integer | None = Field(
        default=None, ge=0, le=MAX_SAFE_INTEGER, description="Covered entity's, tonnes."
    )
    used_total: Integer = Field(default=0, ge=0, le=MAX_SAFE_INTEGER)
    used_outside_region: Integer = Field(default=0, ge=0, le=MAX_SAFE_INTEGER)


@router.post("/v1/rulesets/evaluate", summary="Dry run: what the ruleset in force says about a block")
def evaluate_block(
    request: EvaluationRequest, session: SessionDep, principal: CurrentPrincipal
) -> BlockEvaluation:
    origin = request.block.get("origin_registry")
    if not isinstance(origin, str):
        raise BadRequest(
            "block.origin_registry is required",
            code="1002",
            errors=[{"pointer": "/block/origin_registry", "code": "1002", "detail": "required"}],
        )
    day = request.on_date or datetime.now(UTC).date()
    chosen = StandardsService(session).current(origin, request.destination, day)
    usage = (
        PurposeUsage(request.verified_emissions, request.used_total, request.used_outside_region)
        if request.verified_emissions is not None
        else None
    )
    try:
        decision = evaluate(
            request.block,
            destination=request.destination,
            purpose=request.purpose,
            on_date=day,
            ruleset=chosen.ruleset,
            project=ProjectFacts.from_project(request.project) if request.project else None,
            usage=usage,
        )
    except EvaluationInputError as error:
        raise refusal(error) from error
    except StandardsError as error:
        raise refusal(error) from error
    return BlockEvaluation.model_validate(decision.as_record())
