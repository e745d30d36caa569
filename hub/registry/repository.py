"""Every query of the block registry; bulk paths use Core executemany or COPY, never ORM objects."""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

import orjson
import psycopg
from sqlalchemy import delete, insert, text, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from hub.registry.models import (
    CreditBlock,
    IngestBatch,
    PersonalActivity,
    PersonalBatch,
    ProjectRecord,
    SyncCursor,
)
from mutual_recognition.serials import SerialRange
from schemas.canonical import is_plain

BLOCK_COLUMNS = (
    "block_id", "origin_registry", "current_registry", "serial_namespace", "serial_start", "serial_end",
    "quantity", "vintage", "catalogue_id", "project_registry", "project_id", "holder_account", "status",
    "record", "batch_id",
)  # fmt: skip


def record_text(record: dict[str, Any]) -> str:
    """The JSON text stored for a record in SQLite (member order kept)."""
    if is_plain(record):  # orjson writes what json.dumps would, minus the spaces
        try:
            return orjson.dumps(record).decode()
        except orjson.JSONEncodeError:  # a lone surrogate: let json.dumps decide, as before
            pass
    return json.dumps(record, ensure_ascii=False)


# The predecessor of the span's low end and every block starting inside the span: two ordered
# scans of ix_credit_block_serials in one statement.
NEIGHBOURS_SQL = (
    "SELECT * FROM (SELECT serial_start, serial_end, block_id FROM credit_block"
    " WHERE serial_namespace = ? AND serial_start < ? ORDER BY serial_start DESC LIMIT 1) AS before_low"
    " UNION ALL SELECT serial_start, serial_end, block_id FROM credit_block"
    " WHERE serial_namespace = ? AND serial_start >= ? AND serial_start <= ?"
)


# The end of the predecessor of the span's low end, and how many blocks start inside the span.
ALONE_SQL = (
    "SELECT (SELECT serial_end FROM credit_block WHERE serial_namespace = ? AND serial_start < ?"
    " ORDER BY serial_start DESC LIMIT 1),"
    " (SELECT count(*) FROM credit_block"
    " WHERE serial_namespace = ? AND serial_start >= ? AND serial_start <= ?)"
)


# Other registries' claims on one project fingerprint that overlap a period: both sides of the
# caller's registry in ix_issuance_claim_project, the period end bounded in the index.
ISSUANCE_CANDIDATES_SQL = (
    "SELECT registry_code, fingerprint, period_start, period_end, block_id FROM issuance_claim"
    " WHERE fingerprint = ? AND registry_code < ? AND period_end >= ? AND period_start <= ?"
    " UNION ALL"
    " SELECT registry_code, fingerprint, period_start, period_end, block_id FROM issuance_claim"
    " WHERE fingerprint = ? AND registry_code > ? AND period_end >= ? AND period_start <= ?"
    " ORDER BY 1, 3, 5"
)


def _as_date(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def _block_columns(record: dict[str, Any], data: str, batch_id: str) -> tuple[Any, ...]:
    return (
        record["block_id"],
        record["origin_registry"],
        record["current_registry"],
        record["serial_namespace"],
        record["serial_start"],
        record["serial_end"],
        record["quantity"],
        record["vintage"],
        record["methodology"]["catalogue_id"],
        record["project"]["registry"],
        record["project"]["project_id"],
        record["holder"]["account_id"],
        record["status"],
        data,
        batch_id,
    )


BLOCK_KEY = "credit_block_pkey"  # PostgreSQL's name of credit_block's primary key


class BlockIdTaken(Exception):
    """An inserted block's id is registered already: the primary key refused it."""


HOLDING_DEPTH = 64  # copies of one serial the look-up by serial reads at most


class RegistryRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    @property
    def backend(self) -> str:
        return self.session.get_bind().dialect.name

    def lock_namespaces(self, namespaces: Iterable[str]) -> None:
        """Serialize writers per serial namespace (PostgreSQL advisory locks, held to commit;
        SQLite's write transactions are serialized already)."""
        if self.backend != "postgresql":
            return
        for namespace in sorted(set(namespaces)):
            self.session.execute(
                text("SELECT pg_advisory_xact_lock(hashtextextended(:ns, 0))"), {"ns": namespace}
            )

    def lock_fingerprints(self, fingerprints: Iterable[str]) -> None:
        """Serialize writers of claims on the same projects (PostgreSQL advisory locks, held to
        commit, taken in order; SQLite's write transactions are serialized already)."""
        if self.backend != "postgresql":
            return
        for fingerprint in sorted(set(fingerprints)):
            self.session.execute(
                text("SELECT pg_advisory_xact_lock(hashtextextended(:fp, 1))"), {"fp": "fp:" + fingerprint}
            )

    def neighbours(self, namespace: str, low: int, high: int) -> list[SerialRange]:
        """Blocks of ``namespace`` that could touch [low, high]: the predecessor of ``low`` and every
        block starting in the span — two ordered index range scans in one statement, sent straight
        to the driver (this probe runs for every ingest, recognition and retirement)."""
        self.session.flush()  # the driver path skips the ORM's autoflush; pending blocks count too
        connection = self.session.connection()
        qmark = connection.dialect.paramstyle == "qmark"
        sql = NEIGHBOURS_SQL if qmark else NEIGHBOURS_SQL.replace("?", "%s")
        rows = connection.exec_driver_sql(sql, (namespace, low, namespace, low, high)).all()
        return sorted(SerialRange(start, end, block_id) for start, end, block_id in rows)

    def existing_block_ids(self, block_ids: Sequence[str]) -> set[str]:
        """The ids already registered: one statement, one primary-key probe per id (PostgreSQL
        ``= ANY(array)``, SQLite ``IN (SELECT value FROM json_each(array))``)."""
        if not block_ids:
            return set()
        connection = self.session.connection()
        ids: list[str] | str
        if self.backend == "postgresql":
            sql, ids = "SELECT block_id FROM credit_block WHERE block_id = ANY(%s)", list(block_ids)
        else:
            sql = "SELECT block_id FROM credit_block WHERE block_id IN (SELECT value FROM json_each(?))"
            ids = orjson.dumps(list(block_ids)).decode()
        return {row[0] for row in connection.exec_driver_sql(sql, (ids,))}

    def insert_blocks(
        self,
        records: Sequence[dict[str, Any]],
        batch_id: str,
        canonical: Iterable[bytes] | None = None,
        *,
        plain: bool = False,
    ) -> None:
        """One COPY (PostgreSQL) or executemany (SQLite). ``canonical``: the records' RFC 8785 bytes,
        when the caller has them (the ingest digest), read once, in step with the records (each is
        sent as it is read) and in full on either backend: PostgreSQL parses them into ``jsonb``.
        ``plain``: every record is known to be made of the exchange types only (schema-valid
        credit blocks), so SQLite's text is orjson's without asking :func:`is_plain` per record.
        :class:`BlockIdTaken` when the primary key refuses a block id (the caller's savepoint
        undoes the rows sent before it)."""
        if not records:
            if canonical is not None:
                deque(canonical, maxlen=0)
            return
        if canonical is None:
            canonical = (
                (json.dumps(record).encode() for record in records)
                if self.backend == "postgresql"
                else (b"" for _ in records)
            )
        self.insert_block_pairs(zip(records, canonical, strict=True), batch_id, plain=plain)

    def insert_block_pairs(
        self, pairs: Iterable[tuple[dict[str, Any], bytes]], batch_id: str, *, plain: bool = False
    ) -> None:
        """(record, its RFC 8785 bytes) pairs, as they come (an iterator is read as the rows are
        sent): one COPY on PostgreSQL, which stores the bytes as ``jsonb``; one executemany on
        SQLite, which stores the record's text in member order (``plain``: :func:`record_text`
        without asking :func:`is_plain`; the bytes are not used). :class:`BlockIdTaken` when the
        primary key refuses a block id."""
        if self.backend == "postgresql":
            driver = self.session.connection().connection.driver_connection
            columns = ", ".join(BLOCK_COLUMNS)
            try:
                with (
                    driver.cursor() as cursor,  # type: ignore[union-attr]
                    cursor.copy(f"COPY credit_block ({columns}) FROM STDIN") as copy,
                ):
                    write = copy.write_row
                    for record, data in pairs:
                        write(_block_columns(record, data.decode(), batch_id))
            except psycopg.errors.UniqueViolation as exc:
                if exc.diag.constraint_name == BLOCK_KEY:
                    raise BlockIdTaken(str(exc)) from exc
                raise
            return
        marks = ", ".join("?" * len(BLOCK_COLUMNS))
        statement = f"INSERT INTO credit_block ({', '.join(BLOCK_COLUMNS)}) VALUES ({marks})"  # noqa: S608
        if plain:
            dumps = orjson.dumps
            rows = [_block_columns(record, dumps(record).decode(), batch_id) for record, _ in pairs]
        else:
            rows = [_block_columns(record, record_text(record), batch_id) for record, _ in pairs]
        if not rows:
            return
        try:
            self.session.connection().exec_driver_sql(statement, rows)
        except IntegrityError as exc:
            if "credit_block.block_id" in str(exc.orig):  # UNIQUE constraint failed: credit_block.block_id
                raise BlockIdTaken(str(exc.orig)) from exc
            raise

    def alone_in_span(self, namespace: str, low: int, high: int, count: int) -> bool:
        """True when, besides ``count`` blocks just inserted that start in [low, high] (and
        overlap nothing in it), nothing registered reaches into the span: the predecessor of
        ``low`` ends before it and exactly ``count`` blocks start in the span — one ordered probe
        and one count along ``ix_credit_block_serials``. False says only "look closer"
        (:meth:`neighbours` gives the blocks)."""
        self.session.flush()
        connection = self.session.connection()
        sql = ALONE_SQL if connection.dialect.paramstyle == "qmark" else ALONE_SQL.replace("?", "%s")
        before, inside = connection.exec_driver_sql(sql, (namespace, low, namespace, low, high)).one()
        return bool((before is None or before < low) and inside == count)

    # -- issuance claims (hub.registry.dedup) ------------------------------------------------

    def issuance_candidates(
        self, fingerprint: str, registry: str, low: date, high: date
    ) -> list[tuple[str, str, date, date, str]]:
        """Claims of *other* registries on ``fingerprint`` whose periods overlap [low, high], as
        (registry, fingerprint, start, end, block id): two range scans of
        ``ix_issuance_claim_project`` (fingerprint, registry, period end) on either side of
        ``registry``, so a project's own claims in ``registry`` — however many — are never read."""
        connection = self.session.connection()
        sql = ISSUANCE_CANDIDATES_SQL
        bounds: tuple[date | str, date | str] = (low, high)
        if connection.dialect.paramstyle == "qmark":  # SQLite keeps dates as ISO text
            bounds = (low.isoformat(), high.isoformat())
        else:
            sql = sql.replace("?", "%s")
        found = connection.exec_driver_sql(sql, (fingerprint, registry, *bounds) * 2).all()
        return [
            (registry_code, print_, _as_date(start), _as_date(end), block_id)
            for registry_code, print_, start, end, block_id in found
        ]

    def insert_issuance_claims(
        self, rows: Sequence[tuple[str, str, str, date, date]], *, log_index: int | None = None
    ) -> None:
        """(block id, registry, fingerprint, start, end) rows: one COPY or executemany.
        ``log_index``: the rows are the claims of the local ingest logged there, published to
        peers in this order (positions 0, 1, …: ``ux_issuance_claim_feed``); without it (a peer's
        claims) they are not published."""
        if not rows:
            return
        columns = "block_id, registry_code, fingerprint, period_start, period_end"
        if log_index is not None:
            columns += ", log_index, position"
        if self.backend == "postgresql":
            driver: Any = self.session.connection().connection.driver_connection
            with (
                driver.cursor() as cursor,
                cursor.copy(f"COPY issuance_claim ({columns}) FROM STDIN") as copy,
            ):
                write = copy.write_row
                if log_index is None:
                    for row in rows:
                        write(row)
                else:
                    for position, row in enumerate(rows):
                        write((*row, log_index, position))
            return
        # SQLite keeps dates as ISO text, as SQLAlchemy's Date type writes them
        iso: dict[date, str] = {}
        for _, _, _, start, end in rows:
            if start not in iso:
                iso[start] = start.isoformat()
            if end not in iso:
                iso[end] = end.isoformat()
        connection = self.session.connection()
        if log_index is None:
            connection.exec_driver_sql(
                f"INSERT INTO issuance_claim ({columns}) VALUES (?, ?, ?, ?, ?)",  # noqa: S608
                [
                    (block, registry, print_, iso[start], iso[end])
                    for block, registry, print_, start, end in rows
                ],
            )
        else:
            connection.exec_driver_sql(
                f"INSERT INTO issuance_claim ({columns}) VALUES (?, ?, ?, ?, ?, ?, ?)",  # noqa: S608
                [
                    (block, registry, print_, iso[start], iso[end], log_index, position)
                    for position, (block, registry, print_, start, end) in enumerate(rows)
                ],
            )

    def insert_activities(self, rows: Sequence[dict[str, Any]]) -> None:
        if rows:
            self.session.execute(insert(PersonalActivity), list(rows))

    def activities_of(self, subjects: Sequence[str]) -> Sequence[PersonalActivity]:
        return self.session.exec(
            select(PersonalActivity).where(col(PersonalActivity.subject).in_(list(subjects)))
        ).all()

    def insert_projects(self, records: Sequence[dict[str, Any]], batch_id: str) -> None:
        if records:
            self.session.execute(
                insert(ProjectRecord),
                [
                    {
                        "registry_code": r["registry"],
                        "project_id": r["project_id"],
                        "record": r,
                        "batch_id": batch_id,
                    }
                    for r in records
                ],
            )

    def existing_projects(self, keys: Sequence[tuple[str, str]]) -> set[tuple[str, str]]:
        found: set[tuple[str, str]] = set()
        for registry, project_id in keys:
            if self.session.get(ProjectRecord, (registry, project_id)) is not None:
                found.add((registry, project_id))
        return found

    def project(self, registry: str, project_id: str) -> ProjectRecord | None:
        """The registered project ``project_id`` of ``registry``, or None."""
        return self.session.get(ProjectRecord, (registry, project_id))

    def insert_personal(self, records: Sequence[dict[str, Any]], ingest_id: str) -> None:
        if records:
            self.session.execute(
                insert(PersonalBatch),
                [
                    {
                        "batch_id": r["batch_id"],
                        "platform": r["platform"],
                        "scenario": r["scenario"],
                        "quantity": r["quantity"],
                        "record": r,
                        "ingest_id": ingest_id,
                    }
                    for r in records
                ],
            )

    def existing_personal(self, batch_ids: Sequence[str]) -> set[str]:
        return set(
            self.session.exec(
                select(PersonalBatch.batch_id).where(col(PersonalBatch.batch_id).in_(list(batch_ids)))
            ).all()
        )

    def add_ingest(self, batch: IngestBatch) -> None:
        self.session.add(batch)
        self.session.flush()

    def block(self, block_id: str) -> CreditBlock | None:
        return self.session.get(CreditBlock, block_id)

    def locked_block(self, block_id: str) -> CreditBlock | None:
        """The block as the database holds it now, its row locked for the transaction
        (PostgreSQL; SQLite writers are serialized), or None."""
        return self.session.get(CreditBlock, block_id, with_for_update=True, populate_existing=True)

    def set_status_if(self, block_id: str, before: str, status: str, record: dict[str, Any]) -> int:
        """Give the block ``status`` and ``record`` if its status is still ``before`` (an ORM
        update, as the session synchronizes it): how many rows changed (1, or 0 when it changed)."""
        changed = self.session.execute(
            update(CreditBlock)
            .where(col(CreditBlock.block_id) == block_id, col(CreditBlock.status) == before)
            .values(status=status, record=record)
        )
        return int(changed.rowcount)  # type: ignore[attr-defined]

    def delete_if_unchanged(self, block: CreditBlock) -> int:
        """Delete the block's row if its serials and status are still those of ``block`` (an ORM
        delete, as the session synchronizes it): how many rows went (1, or 0 when it changed)."""
        removed = self.session.execute(
            delete(CreditBlock).where(
                col(CreditBlock.block_id) == block.block_id,
                col(CreditBlock.serial_start) == block.serial_start,
                col(CreditBlock.serial_end) == block.serial_end,
                col(CreditBlock.status) == block.status,
            )
        )
        return int(removed.rowcount)  # type: ignore[attr-defined]

    def insert_block_rows(self, rows: Sequence[dict[str, Any]]) -> None:
        """Insert blocks given as column values (an ORM bulk insert of ``CreditBlock``)."""
        self.session.execute(insert(CreditBlock), rows)

    def by_ids(self, block_ids: Iterable[str]) -> dict[str, CreditBlock]:
        """The registered blocks among ``block_ids``, as the database holds them now (read again
        even when the session knows them: a split in this transaction may have replaced them)."""
        wanted = sorted(set(block_ids))
        if not wanted:
            return {}
        query = select(CreditBlock).where(col(CreditBlock.block_id).in_(wanted))
        found = self.session.exec(query.execution_options(populate_existing=True))
        return {block.block_id: block for block in found}

    def stored_blocks(self, block_ids: Iterable[str]) -> dict[str, CreditBlock]:
        """The registered blocks among ``block_ids`` by id (the session's copy of a block it
        already holds: unlike :meth:`by_ids`, not read again)."""
        read = self.session.exec(select(CreditBlock).where(col(CreditBlock.block_id).in_(sorted(block_ids))))
        return {block.block_id: block for block in read}

    def blocks(self, registry: str, after: str | None, limit: int) -> Sequence[CreditBlock]:
        query = (
            select(CreditBlock)
            .where(CreditBlock.current_registry == registry)
            .order_by(col(CreditBlock.block_id))
        )
        if after:
            query = query.where(col(CreditBlock.block_id) > after)
        return self.session.exec(query.limit(limit)).all()

    def held_by(self, registry: str, catalogue_id: str | None) -> Sequence[CreditBlock]:
        """The blocks ``registry`` holds (status held), of ``catalogue_id`` when given, oldest
        vintage and lowest serial first."""
        query = select(CreditBlock).where(
            CreditBlock.current_registry == registry, CreditBlock.status == "held"
        )
        if catalogue_id:
            query = query.where(CreditBlock.catalogue_id == catalogue_id)
        return self.session.exec(
            query.order_by(col(CreditBlock.vintage), col(CreditBlock.serial_start))
        ).all()

    def holding(self, namespace: str, serial: int) -> Sequence[CreditBlock]:
        """Every registered block whose serials include ``serial``: the one that holds it now, and
        where it moved, the exported block it left at its origin (newest status last)."""
        # Copies of a serial (exported at the origin, imported elsewhere) start at or before it and
        # are few: the last blocks starting at or before it, read backwards along the index.
        query = (
            select(CreditBlock)
            .where(CreditBlock.serial_namespace == namespace, col(CreditBlock.serial_start) <= serial)
            .order_by(col(CreditBlock.serial_start).desc())
            .limit(HOLDING_DEPTH)
        )
        found = [block for block in self.session.exec(query) if block.serial_end >= serial]
        return sorted(found, key=lambda block: block.block_id)

    def holder_of(self, namespace: str, start: int, end: int, registry: str) -> CreditBlock | None:
        """The live block of ``registry`` that holds serials [start, end] now — whatever splits
        renamed it since an operation named it (operations hold serials, not block ids)."""
        for block in self.holding(namespace, start):
            if block.current_registry == registry and block.status != "exported" and end <= block.serial_end:
                return block
        return None

    def sync_cursor(self, code: str) -> SyncCursor | None:
        """Pull mode's stored cursor of platform ``code``, or None before its first page."""
        return self.session.get(SyncCursor, code)

    def ingest(self, ingest_id: str) -> IngestBatch | None:
        return self.session.get(IngestBatch, ingest_id)
