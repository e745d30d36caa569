"""The log (public: auditors trust it without trusting the database) and the event feed."""

from __future__ import annotations

import base64
import json
from typing import Annotated, Any

from fastapi import APIRouter, Query

from hub.auth.principal import CurrentPrincipal
from hub.deps import KeyStoreDep, SessionDep
from hub.log.models import LogEntry
from hub.log.reader import LogReader, head_record
from hub.log.repository import LogRepository
from hub.problems import BadRequest
from schemas.canonical import MAX_SAFE_INTEGER

router = APIRouter(tags=["log"])
PAGE = 1000


@router.get("/v1/log/tree-head", summary="The signed head of the log (size, root hash, time, JWS)")
def tree_head(session: SessionDep, keystore: KeyStoreDep) -> dict[str, Any]:
    return head_record(LogReader(session).signed_head(keystore))


@router.get("/v1/log/tree-heads", summary="Signed heads issued so far, oldest first")
def tree_heads(
    session: SessionDep,
    after: Annotated[int, Query(ge=-1, le=MAX_SAFE_INTEGER, description="Only heads of a larger size.")] = -1,
    limit: Annotated[int, Query(ge=1, le=PAGE)] = 100,
) -> list[dict[str, Any]]:
    return [head_record(head) for head in LogRepository(session).heads(after, limit)]


def entry_record(entry: LogEntry, leaf: bytes | None) -> dict[str, Any]:
    return {
        "index": entry.index,
        "leaf_hash": leaf.hex() if leaf is not None else None,
        "entry_b64": base64.b64encode(entry.entry).decode("ascii"),
        "entry": json.loads(entry.entry),
    }


@router.get("/v1/log/entries", summary="Entries [start, end) with their canonical bytes")
def entries(
    session: SessionDep,
    start: Annotated[int, Query(ge=0, le=MAX_SAFE_INTEGER)],
    end: Annotated[int, Query(ge=1, le=MAX_SAFE_INTEGER)],
) -> list[dict[str, Any]]:
    if end <= start or end - start > PAGE:
        raise BadRequest(f"ask for 1 to {PAGE} entries (start < end)", code="1004")
    repository = LogRepository(session)
    leaves = repository.leaf_hashes(start, end)
    return [entry_record(entry, leaves.get(entry.index)) for entry in repository.entries(start, end)]


@router.get("/v1/log/proofs/inclusion", summary="RFC 9162 inclusion proof of a leaf")
def inclusion(
    session: SessionDep,
    leaf_index: Annotated[int, Query(ge=0, le=MAX_SAFE_INTEGER)],
    tree_size: Annotated[int, Query(ge=1, le=MAX_SAFE_INTEGER)],
) -> dict[str, Any]:
    path = LogReader(session).inclusion(leaf_index, tree_size)
    return {"leaf_index": leaf_index, "tree_size": tree_size, "audit_path": [h.hex() for h in path]}


@router.get("/v1/log/proofs/consistency", summary="RFC 9162 consistency proof between two sizes")
def consistency(
    session: SessionDep,
    first: Annotated[int, Query(ge=1, le=MAX_SAFE_INTEGER)],
    second: Annotated[int, Query(ge=1, le=MAX_SAFE_INTEGER)],
) -> dict[str, Any]:
    path = LogReader(session).consistency(first, second)
    return {"first": first, "second": second, "consistency_path": [h.hex() for h in path]}


@router.get("/v1/events", summary="The caller's events after a cursor (the log index), oldest first")
def events(
    session: SessionDep,
    principal: CurrentPrincipal,
    after: Annotated[
        int, Query(ge=-1, le=MAX_SAFE_INTEGER, description="Cursor: the last log_index seen.")
    ] = -1,
    limit: Annotated[int, Query(ge=1, le=PAGE)] = 100,
) -> dict[str, Any]:
    platform = principal.platform_code or principal.region
    found = LogRepository(session).events_for(platform, after, limit) if platform else []
    items = [json.loads(entry.entry) for entry in found]
    return {"events": items, "next_cursor": items[-1]["log_index"] if items else after}
