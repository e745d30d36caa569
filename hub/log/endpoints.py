"""The log (public: auditors trust it without trusting the database) and the event feed."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Query

from hub.auth.principal import CurrentPrincipal
from hub.deps import KeyStoreDep, SessionDep
from hub.log.public import (
    ConsistencyProof,
    EventPage,
    InclusionProof,
    LogEntryPublic,
    TreeHeadPublic,
    log_entry_public,
    tree_head_public,
)
from hub.log.reader import LogReader
from hub.log.repository import LogRepository
from hub.problems import BadRequest
from schemas.canonical import MAX_SAFE_INTEGER

router = APIRouter(tags=["log"])
PAGE = 1000


@router.get("/v1/log/tree-head", summary="The signed head of the log (size, root hash, time, JWS)")
def tree_head(session: SessionDep, keystore: KeyStoreDep) -> TreeHeadPublic:
    return tree_head_public(LogReader(session).signed_head(keystore))


@router.get("/v1/log/tree-heads", summary="Signed heads issued so far, oldest first")
def tree_heads(
    session: SessionDep,
    after: Annotated[int, Query(ge=-1, le=MAX_SAFE_INTEGER, description="Only heads of a larger size.")] = -1,
    limit: Annotated[int, Query(ge=1, le=PAGE)] = 100,
) -> list[TreeHeadPublic]:
    return [tree_head_public(head) for head in LogRepository(session).heads(after, limit)]


@router.get("/v1/log/entries", summary="Entries [start, end) with their canonical bytes")
def entries(
    session: SessionDep,
    start: Annotated[int, Query(ge=0, le=MAX_SAFE_INTEGER)],
    end: Annotated[int, Query(ge=1, le=MAX_SAFE_INTEGER)],
) -> list[LogEntryPublic]:
    if end <= start or end - start > PAGE:
        raise BadRequest(f"ask for 1 to {PAGE} entries (start < end)", code="1004")
    repository = LogRepository(session)
    leaves = repository.leaf_hashes(start, end)
    return [log_entry_public(entry, leaves.get(entry.index)) for entry in repository.entries(start, end)]


@router.get("/v1/log/proofs/inclusion", summary="RFC 9162 inclusion proof of a leaf")
def inclusion(
    session: SessionDep,
    leaf_index: Annotated[int, Query(ge=0, le=MAX_SAFE_INTEGER)],
    tree_size: Annotated[int, Query(ge=1, le=MAX_SAFE_INTEGER)],
) -> InclusionProof:
    path = LogReader(session).inclusion(leaf_index, tree_size)
    return InclusionProof(leaf_index=leaf_index, tree_size=tree_size, audit_path=[h.hex() for h in path])


@router.get("/v1/log/proofs/consistency", summary="RFC 9162 consistency proof between two sizes")
def consistency(
    session: SessionDep,
    first: Annotated[int, Query(ge=1, le=MAX_SAFE_INTEGER)],
    second: Annotated[int, Query(ge=1, le=MAX_SAFE_INTEGER)],
) -> ConsistencyProof:
    path = LogReader(session).consistency(first, second)
    return ConsistencyProof(first=first, second=second, consistency_path=[h.hex() for h in path])


@router.get("/v1/events", summary="The caller's events after a cursor (the log index), oldest first")
def events(
    session: SessionDep,
    principal: CurrentPrincipal,
    after: Annotated[
        int, Query(ge=-1, le=MAX_SAFE_INTEGER, description="Cursor: the last log_index seen.")
    ] = -1,
    limit: Annotated[int, Query(ge=1, le=PAGE)] = 100,
) -> EventPage:
    platform = principal.platform_code or principal.region
    found = LogRepository(session).events_for(platform, after, limit) if platform else []
    items = [json.loads(entry.entry) for entry in found]
    return EventPage(events=items, next_cursor=items[-1]["log_index"] if items else after)
