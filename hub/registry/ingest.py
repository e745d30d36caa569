"""Ingesting a batch of exchange records: all-or-nothing, every error with its pointer and code.

Checks, in order: each record against its exchange schema; the uploader issues only in its own
registry and serial namespace (2004) and only held or encumbered blocks (3013); no block id or
serial twice in the batch (3007, 3008); no block id already registered (3012); no serial of a
namespace's registered blocks (3011: an advisory lock per namespace on PostgreSQL, an ordered
index probe of the neighbouring blocks, a merge check). Then one Core or COPY insert per table,
one log entry for the batch, one ingest record.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from adapters.base import ParseStream
from adapters.contract import LocalError
from hub.claims.repository import ClaimRepository, NewClaim, pledge_owner
from hub.log.changes import append_change
from hub.problems import HubError
from hub.registry.batch import BatchDigest, Records, batch_digest, canonical_block
from hub.registry.dedup import DedupService
from hub.registry.models import IngestBatch
from hub.registry.repository import BlockIdTaken, RegistryRepository
from hub.xdedup.feed import publish_activities
from mutual_recognition.claims import ClaimKind
from mutual_recognition.serials import SerialRange, overlaps_with, overlaps_within
from schemas.canonical import CanonicalizationError
from schemas.validation import Issue, validate

__all__ = [
    "BatchDigest",
    "BatchRefused",
    "IngestReport",
    "IngestService",
    "Records",
    "batch_digest",
    "canonical_block",
    "refused_payload",
]

ISSUABLE = frozenset({"held", "encumbered"})


class BatchRefused(HubError):
    status = 422
    slug = "batch-refused"
    title = "The batch is refused; nothing was stored"


@dataclass(frozen=True)
class IngestReport:
    ingest_id: str
    log_index: int
    projects: int
    blocks: int
    tonnes: int
    personal_batches: int
    grams: int
    digest: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "ingest_id": self.ingest_id,
            "log_index": self.log_index,
            "projects": self.projects,
            "blocks": self.blocks,
            "tonnes": self.tonnes,
            "personal_batches": self.personal_batches,
            "grams": self.grams,
            "digest": {"alg": "sha-256", "value": self.digest},
        }


def _schema_issues(records: Records) -> list[Issue]:
    issues: list[Issue] = []
    for kind, schema, items in (
        ("projects", "project", records.projects),
        ("blocks", "credit-block", records.blocks),
        ("batches", "personal-reduction-batch", records.batches),
    ):
        for position, record in enumerate(items):
            issues += [
                Issue(f"/{kind}/{position}{issue.pointer}", issue.code, issue.detail)
                for issue in validate(schema, record)
            ]
    return issues


def _block_issuer_issues(platform: str, position: int, block: dict[str, Any]) -> list[Issue]:
    issues = [
        Issue(f"/blocks/{position}/{member}", "2004", f"{platform} issues only as {platform}")
        for member in ("origin_registry", "current_registry", "serial_namespace")
        if block[member] != platform
    ]
    if block["status"] not in ISSUABLE:
        issues.append(
            Issue(
                f"/blocks/{position}/status",
                "3013",
                f"a new block is held or encumbered, not {block['status']}",
            )
        )
    return issues


Span = tuple[int, int, int]  # serial start, serial end, position in the batch


@dataclass
class _Scan:
    """What one pass over a batch's blocks finds: their ids (in order), their serial ranges by
    namespace (in batch order, each with its position) and each namespace's lowest and highest
    serial, and the issuer issues (2004, 3013) of the blocks, then the projects and batches."""

    ids: list[str]
    by_namespace: dict[str, list[Span]]
    bounds: dict[str, list[int]]
    issuer: list[Issue]


def _scan(platform: str, records: Records) -> _Scan:
    ids: list[str] = []
    by_namespace: dict[str, list[Span]] = {}
    bounds: dict[str, list[int]] = {}
    issues: list[Issue] = []
    for position, block in enumerate(records.blocks):
        ids.append(block["block_id"])
        namespace, start, end = block["serial_namespace"], block["serial_start"], block["serial_end"]
        spans = by_namespace.get(namespace)
        if spans is None:
            by_namespace[namespace] = [(start, end, position)]
            bounds[namespace] = [start, end]
        else:
            spans.append((start, end, position))
            span = bounds[namespace]
            if start < span[0]:
                span[0] = start
            if end > span[1]:
                span[1] = end
        if (
            block["origin_registry"] != platform
            or block["current_registry"] != platform
            or namespace != platform
            or block["status"] not in ISSUABLE
        ):
            issues += _block_issuer_issues(platform, position, block)
    for position, project in enumerate(records.projects):
        if project["registry"] != platform:
            issues.append(
                Issue(f"/projects/{position}/registry", "2004", f"{platform} registers only its own projects")
            )
    for position, batch in enumerate(records.batches):
        if batch["platform"] != platform:
            issues.append(
                Issue(f"/batches/{position}/platform", "2004", f"{platform} sends only its own batches")
            )
    return _Scan(ids, by_namespace, bounds, issues)


def _serial_ranges(spans: list[Span]) -> list[SerialRange]:
    return [SerialRange(start, end, str(position)) for start, end, position in spans]


def _disjoint(spans: list[Span]) -> bool:
    """True when no two ranges share a serial (one sort, one pass); when False the exact
    ``overlaps_within`` over ``SerialRange`` objects names the pairs."""
    reach = None
    for start, end, _ in sorted(spans):
        if reach is not None and start <= reach:
            return False
        reach = end if reach is None or end > reach else reach
    return True


def _duplicate_issues(records: Records, scan: _Scan) -> list[Issue]:
    issues: list[Issue] = []
    if len(set(scan.ids)) < len(scan.ids):
        seen = Counter(scan.ids)
        positions = {block["block_id"]: i for i, block in enumerate(records.blocks)}
        issues += [
            Issue(f"/blocks/{positions[b]}/block_id", "3007", f"block {b} appears {n} times")
            for b, n in seen.items()
            if n > 1
        ]
    for spans in scan.by_namespace.values():
        if _disjoint(spans):
            continue
        for first, second in overlaps_within(_serial_ranges(spans)):
            issues.append(
                Issue(f"/blocks/{second.ref}/serial_start", "3008", f"serials overlap /blocks/{first.ref}")
            )
    seen_batches = Counter(batch["batch_id"] for batch in records.batches)
    issues += [
        Issue("/batches", "3007", f"batch {b} appears {n} times") for b, n in seen_batches.items() if n > 1
    ]
    return issues


def refused_payload(code: str, errors: Sequence[LocalError]) -> BatchRefused:
    """The refusal of a local payload its adapter does not read: every error in the platform's
    terms (record, field), none pointing into exchange records."""
    entries = [
        {"pointer": "", "record": e.record, "field": e.field, "code": e.code, "detail": e.reason}
        for e in errors
    ]
    detail = f"{len(entries)} problem(s) in the {code} payload"
    return BatchRefused(detail, code=entries[0]["code"], errors=entries)


class _Reread(Exception):  # a signal, not an error
    """The streamed ingest leaves the batch to the exact path (``IngestService.ingest``)."""


def _sent(
    platform: str, stream: ParseStream, sent: list[dict[str, Any]], made: list[bytes]
) -> Iterator[tuple[dict[str, Any], bytes]]:
    """The blocks the stream hands out (kept in ``sent``) with their canonical bytes (kept in
    ``made``), as read, up to the first ``platform`` may not issue (its issuer issues, 2004 or
    3013: such a block, which may name another platform's ids, is never written before the
    checks); then the rest of the parse, so it runs while the database still works on the last
    rows."""
    for block in stream.blocks():
        if not (
            block["origin_registry"] == block["current_registry"] == block["serial_namespace"] == platform
            and block["status"] in ISSUABLE
        ):  # what _block_issuer_issues refuses, asked without building its issues
            break
        piece = canonical_block(block)
        sent.append(block)
        made.append(piece)
        yield block, piece
    stream.result()


class IngestService:
    def __init__(self, session: Session) -> None:
        self.session = session
        self.registry = RegistryRepository(session)
        self.dedup = DedupService(session)

    def _registered_issues(self, records: Records, scan: _Scan, *, probe_ids: bool = True) -> list[Issue]:
        issues: list[Issue] = []
        ids = scan.ids
        found = self.registry.existing_block_ids(ids) if probe_ids else set()
        if found:  # in batch order
            issues += [
                Issue(f"/blocks/{position}/block_id", "3012", f"block {block_id} is already registered")
                for position, block_id in enumerate(ids)
                if block_id in found
            ]
        self.registry.lock_namespaces(scan.by_namespace)
        for namespace, spans in scan.by_namespace.items():
            low, high = scan.bounds[namespace]
            neighbours = self.registry.neighbours(namespace, low, high)
            if not neighbours or (len(neighbours) == 1 and neighbours[0].end < low):
                continue  # nothing registered reaches into the batch's span
            for new, old in overlaps_with(_serial_ranges(spans), neighbours):
                issues.append(
                    Issue(
                        f"/blocks/{new.ref}/serial_start",
                        "3011",
                        f"serials {new.start}-{new.end} overlap registered block {old.ref}"
                        f" ({old.start}-{old.end})",
                    )
                )
        existing = self.registry.existing_personal([batch["batch_id"] for batch in records.batches])
        issues += [
            Issue("/batches", "3012", f"batch {batch_id} is already registered")
            for batch_id in sorted(existing)
        ]
        return issues

    def check(
        self, platform: str, records: Records, *, schema_checked: bool = False, probe_ids: bool = True
    ) -> list[Issue]:
        """Every reason the records would be refused (nothing is stored): schema, issuer and
        in-batch duplicates first, then what the registry holds — serials, ids, double issuance
        across registries (4001) and personal activity counted twice (4002).

        ``probe_ids=False`` leaves out the look-up of registered block ids (3012): for a caller
        whose insert the primary key refuses instead (``ingest``), who then asks again."""
        issues = [] if schema_checked else _schema_issues(records)
        if not issues:
            scan = _scan(platform, records)
            issues = scan.issuer + _duplicate_issues(records, scan)
        if not issues:
            issues = self._registered_issues(records, scan, probe_ids=probe_ids)
            issues += self.dedup.issues(platform, records)
        return issues

    def _refuse(self, platform: str, records: Records, *, schema_checked: bool) -> BatchRefused | None:
        """The refusal of the records, every reason in the order ``check`` gives them."""
        issues = self.check(platform, records, schema_checked=schema_checked)
        if not issues:
            return None
        return BatchRefused(f"{len(issues)} problem(s) in the batch", code=issues[0].code, errors=issues)

    def _claim_pledged(self, records: Records) -> None:
        """A block issued encumbered (pledged at its origin) is held by a pledge claim, as if it
        had been pledged through the hub, until it is released."""
        claims = ClaimRepository(self.session)
        for block in records.blocks:
            if block["status"] == "encumbered":
                new = NewClaim(block["serial_namespace"], block["serial_start"], block["serial_end"])
                claims.add(ClaimKind.PLEDGE, pledge_owner(block["block_id"]), [new])

    def ingest(
        self, platform: str, records: Records, *, actor: str, source: str, schema_checked: bool = False
    ) -> IngestReport:
        """Store every record or none; :class:`BatchRefused` lists every reason.

        ``schema_checked``: the records come from one of the hub's own adapters, whose ``parse``
        validated each against its exchange schema already (the conformance suite holds them to
        it); every other check still runs."""
        # Registered block ids are not looked up first: the primary key refuses them in the insert
        # below (rolled back to its savepoint), and any refusal is then worked out in full.
        if self.check(platform, records, schema_checked=schema_checked, probe_ids=False):
            refusal = self._refuse(platform, records, schema_checked=schema_checked)
            assert refusal is not None  # the full check finds at least what the partial one did
            raise refusal
        ingest_id = str(uuid.uuid4())
        self._insert_projects(records, ingest_id)
        digest = BatchDigest(records, valid_blocks=True)  # checked above
        try:
            with self.session.begin_nested():  # the blocks hashed as they are sent
                self.registry.insert_blocks(list(records.blocks), ingest_id, digest.blocks(), plain=True)
        except BlockIdTaken as taken:
            refusal = self._refuse(platform, records, schema_checked=schema_checked)
            if refusal is None:  # the id is not registered after all: the driver's error, as before
                raise (taken.__cause__ or taken) from None
            raise refusal from None
        return self._store_rest(platform, records, ingest_id, digest.hexdigest(), actor=actor, source=source)

    def ingest_stream(self, platform: str, stream: ParseStream, *, actor: str, source: str) -> IngestReport:
        """Ingest a local payload while its adapter reads it: every block the stream hands out is
        sent to the database as it is read (on PostgreSQL the server inserts them while the rest
        of the payload is parsed), then the parse is finished, the rest sent, and the checks run
        over what is stored. The outcome is always :meth:`ingest`'s of the parsed records: a
        refused payload is refused as its parse says (:func:`refused_payload`), and a batch any
        check (or the primary key) questions is undone and handed to :meth:`ingest`, whose
        checks decide and name every reason."""
        self.registry.lock_namespaces([platform])  # where its blocks issue, as ingest locks it first
        ingest_id = str(uuid.uuid4())
        sent: list[dict[str, Any]] = []
        made: list[bytes] = []
        try:
            with self.session.begin_nested():
                self.registry.insert_block_pairs(_sent(platform, stream, sent, made), ingest_id, plain=True)
                result = stream.result()
                if not result.ok or not sent:
                    raise _Reread
                records = Records(result.projects, result.blocks, result.batches)
                if len(sent) > len(records.blocks) or any(
                    a is not b for a, b in zip(sent, records.blocks, strict=False)
                ):
                    raise _Reread  # not the first blocks of the parse (an adapter's bug): as a whole
                scan = _scan(platform, records)
                if scan.issuer or _duplicate_issues(records, scan):
                    raise _Reread  # before the rest is written: ingest names the issues
                digest = BatchDigest(records, valid_blocks=True, made=made)
                rest = records.blocks[len(made) :]
                self.registry.insert_blocks(rest, ingest_id, digest.blocks(), plain=True)
                if not self._alone(platform, records, scan):
                    raise _Reread
        except (_Reread, BlockIdTaken, CanonicalizationError, DBAPIError, psycopg.Error):
            result = stream.result()
            if not result.ok:
                raise refused_payload(stream.adapter.code, result.errors) from None
            records = Records(result.projects, result.blocks, result.batches)
            return self.ingest(platform, records, actor=actor, source=source, schema_checked=True)
        self._insert_projects(records, ingest_id)
        return self._store_rest(platform, records, ingest_id, digest.hexdigest(), actor=actor, source=source)

    def _alone(self, platform: str, records: Records, scan: _Scan) -> bool:
        """After a streamed batch's blocks are stored (``scan``: its pass, with no issuer or
        in-batch issue): True when ``check`` would find nothing else — nothing registered in any
        of its namespaces' spans but its own blocks (the batch's blocks counted, not read), no
        personal batch stored already, no duplicate claim. False leaves the answer to
        :meth:`ingest`."""
        self.registry.lock_namespaces(scan.by_namespace)
        for namespace, spans in scan.by_namespace.items():
            low, high = scan.bounds[namespace]
            if not self.registry.alone_in_span(namespace, low, high, len(spans)):
                return False
        if records.batches and self.registry.existing_personal([b["batch_id"] for b in records.batches]):
            return False
        return not self.dedup.issues(platform, records)

    def _insert_projects(self, records: Records, ingest_id: str) -> None:
        keys = [(p["registry"], p["project_id"]) for p in records.projects]
        known = self.registry.existing_projects(keys)
        fresh = [p for p in records.projects if (p["registry"], p["project_id"]) not in known]
        self.registry.insert_projects(fresh, ingest_id)

    def _store_rest(
        self, platform: str, records: Records, ingest_id: str, batch_hash: str, *, actor: str, source: str
    ) -> IngestReport:
        """What follows the blocks: personal batches, pledges, the log entry, the claims (the
        feed's entries), the ingest row."""
        self.registry.insert_personal(list(records.batches), ingest_id)
        self._claim_pledged(records)
        tonnes = sum(block["quantity"] for block in records.blocks)
        grams = sum(batch["quantity"] for batch in records.batches)
        counts = {
            "projects": len(records.projects),
            "blocks": len(records.blocks),
            "personal_batches": len(records.batches),
        }
        index = append_change(
            self.session,
            "batch.ingested",
            subject=("credit-block" if records.blocks else "personal-reduction-batch", ingest_id),
            actor=actor,
            platforms=[platform],
            data={**counts, "tonnes": tonnes, "grams": grams, "digest": batch_hash, "source": source},
        )
        # the claims carry the log index: they are the ingest's entries in the feed to peers
        published, activities = self.dedup.record(platform, records, index)
        publish_activities(self.session, index, published, activities)
        report = IngestReport(
            ingest_id,
            index,
            counts["projects"],
            counts["blocks"],
            tonnes,
            counts["personal_batches"],
            grams,
            batch_hash,
        )
        self.registry.add_ingest(
            IngestBatch(
                id=ingest_id,
                platform=platform,
                source=source,
                projects=report.projects,
                blocks=report.blocks,
                tonnes=tonnes,
                personal_batches=report.personal_batches,
                grams=grams,
                digest=batch_hash,
                log_index=index,
            )
        )
        return report
