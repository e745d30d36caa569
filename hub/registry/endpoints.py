"""Ingest and read the block registry.

``POST /v1/platforms/{code}/batches`` takes either the exchange form
(``application/vnd.puhui.records+json``: ``{"projects": [], "blocks": [], "batches": []}``) or the
platform's own format (its adapter's media types). Formats that carry personal identifiers are
refused in local form: they are parsed on the platform's side (``puhui import``), so raw
identifiers never reach the hub.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, status
from starlette.types import Scope

from adapters.base import ParseStream, parse_stream
from adapters.contract import PERSONAL_BATCH
from adapters.registry import UnknownAdapter, get
from hub.auth.principal import Forbidden, Principal, require
from hub.auth.signing import SignedRequestDep
from hub.deps import SessionDep, SettingsDep
from hub.idempotency.route import idempotent
from hub.problems import BadRequest, HubError, NotFound, problem_responses
from hub.registry.federation_key import pseudonymizer
from hub.registry.ingest import BatchRefused, IngestService, Records
from hub.registry.models import CreditBlock
from hub.registry.public import CreditBlockRecord, DedupCheck, IngestReportPublic, IssuePublic
from hub.registry.repository import RegistryRepository
from hub.strict import json_document, request_content_type
from schemas.canonical import MAX_SAFE_INTEGER

router = APIRouter(tags=["registry"])
EXCHANGE_FORM = "application/vnd.puhui.records+json"
LOCAL_INGEST = re.compile(r"^/v1/platforms/[^/]+/batches$")

Writer = Annotated[Principal, Depends(require("blocks:write"))]
Reader = Annotated[Principal, Depends(require("blocks:read"))]


class UnsupportedFormat(HubError):
    status = 415
    slug = "media-type-unsupported"
    title = "The platform's adapter does not read this content type"


def local_format_request(scope: Scope) -> bool:
    """A batch in the platform's own format: its adapter reads it (the strict reader, decimals
    allowed), not the hub's JSON edge."""
    media = request_content_type(scope).split(";")[0].strip().lower()
    return media != EXCHANGE_FORM and LOCAL_INGEST.match(scope.get("path", "")) is not None


def exchange_records(document: Any) -> Records:
    if not isinstance(document, dict) or not set(document) <= {"projects", "blocks", "batches"}:
        raise BadRequest('the body is {"projects": [...], "blocks": [...], "batches": [...]}', code="1002")
    lists = {key: document.get(key, []) for key in ("projects", "blocks", "batches")}
    if not all(
        isinstance(value, list) and all(isinstance(r, dict) for r in value) for value in lists.values()
    ):
        raise BadRequest("projects, blocks and batches are arrays of records", code="1002")
    return Records(**lists)


Namer = Callable[[str], "tuple[str, str] | None"]


def named_locally(refused: BatchRefused, names: Namer) -> BatchRefused:
    """``refused`` with each entry that points into a record also naming the record and the field
    as the platform's own file has them (``row 5``, ``签发编号``)."""
    entries = []
    for entry in refused.errors:
        found = names(entry.get("pointer", ""))
        entries.append({**entry, "record": found[0], "field": found[1]} if found else entry)
    return BatchRefused(refused.detail, code=refused.code, errors=entries)


def local_stream(code: str, body: bytes, content_type: str, settings: Any) -> tuple[ParseStream, str, Namer]:
    """The parse of a local payload by the platform's adapter, read as the ingest stores it
    (``IngestService.ingest_stream``); its refusal names the platform's rows and fields."""
    try:
        adapter = get(code)
    except UnknownAdapter as exc:
        raise UnsupportedFormat(f"no adapter for {code}; send {EXCHANGE_FORM}", code="1044") from exc
    media = content_type.split(";")[0].strip().lower()
    if media not in {m.split(";")[0].lower() for m in adapter.media_types}:
        raise UnsupportedFormat(
            f"{code} sends {', '.join(adapter.media_types)} or {EXCHANGE_FORM}, not {media}", code="1044"
        )
    if PERSONAL_BATCH in adapter.record_kinds:
        raise UnsupportedFormat(
            f"{adapter.format} carries personal identifiers: parse it on the platform's side "
            f"(puhui import {code} FILE) and send {EXCHANGE_FORM}",
            code="1044",
        )
    stream = parse_stream(
        adapter,
        body,
        content_type=content_type,
        pseudonymizer=pseudonymizer(settings.resolved_federation_key_file),
    )
    return stream, f"local:{code}", lambda pointer: adapter.local_names(stream.result(), pointer)


async def _body(request: Request) -> bytes:
    return await request.body()


@router.post(
    "/v1/platforms/{code}/batches",
    status_code=status.HTTP_201_CREATED,
    summary="Ingest a batch (local format or exchange form), all or nothing",
    responses=problem_responses(415),
)
@idempotent
def ingest(
    code: str,
    request: Request,
    body: Annotated[bytes, Depends(_body)],
    session: SessionDep,
    settings: SettingsDep,
    principal: Writer,
    signed: SignedRequestDep,
) -> IngestReportPublic:
    if principal.platform_code != code:
        raise Forbidden(f"only {code} sends {code}'s batches", scope="blocks:write")
    content_type = request.headers.get("content-type", "")
    if content_type.split(";")[0].strip().lower() == EXCHANGE_FORM:
        records = exchange_records(json_document(request.scope, body))
        report = IngestService(session).ingest(code, records, actor=principal.client_id, source="exchange")
    else:
        stream, source, names = local_stream(code, body, content_type, settings)
        try:
            report = IngestService(session).ingest_stream(
                code, stream, actor=principal.client_id, source=source
            )
        except BatchRefused as refused:  # a local file's refusal names its own rows and fields
            raise named_locally(refused, names) from None
    return IngestReportPublic.model_validate(report.as_dict())


@router.post("/v1/dedup/check", summary="Dry run before issuing: every reason the records would be refused")
def dedup_check(
    request: Request, body: Annotated[bytes, Depends(_body)], session: SessionDep, principal: Writer
) -> DedupCheck:
    """The exchange form of the records a platform is about to issue; nothing is stored."""
    if principal.platform_code is None:
        raise Forbidden("only a platform checks its own records", scope="blocks:write")
    records = exchange_records(json_document(request.scope, body))
    issues = IngestService(session).check(principal.platform_code, records)
    return DedupCheck(clear=not issues, issues=[IssuePublic.model_validate(i.as_dict()) for i in issues])


def _visible(block: CreditBlock, principal: Principal) -> bool:
    return principal.owns(block.current_registry) or principal.owns(block.origin_registry)


@router.get(
    "/v1/blocks",
    summary="Blocks the caller's platform holds, by id; with namespace and serial, where that serial is",
)
def blocks(
    session: SessionDep,
    principal: Reader,
    after: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    namespace: Annotated[str | None, Query(pattern=r"^[A-Z][A-Z0-9]{1,15}$")] = None,
    serial: Annotated[int | None, Query(ge=1, le=MAX_SAFE_INTEGER)] = None,
) -> list[CreditBlockRecord]:
    registry = principal.platform_code or principal.region
    if registry is None:
        return []
    if (namespace is None) != (serial is None):
        raise BadRequest("namespace and serial are given together", code="1004")
    if namespace is not None and serial is not None:
        found = RegistryRepository(session).holding(namespace, serial)
        return [block.record | {"status": block.status} for block in found if _visible(block, principal)]
    return [
        block.record | {"status": block.status}
        for block in RegistryRepository(session).blocks(registry, after, limit)
    ]


@router.get("/v1/blocks/{block_id}", summary="One block (404 unless the caller holds or issued it)")
def block(block_id: str, session: SessionDep, principal: Reader) -> CreditBlockRecord:
    found = RegistryRepository(session).block(block_id)
    if found is None or not _visible(found, principal):
        raise NotFound(f"no block {block_id}")
    return found.record | {"status": found.status}
