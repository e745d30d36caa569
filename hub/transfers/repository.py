"""Every query of a single transfer proposal: Core statements built once (building and hashing an
expression tree costs more than running it), plain rows read, no ORM object tracked."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any, NamedTuple

from sqlalchemy import Executable, Table, and_, bindparam, insert, literal, or_, text
from sqlalchemy import select as core_select
from sqlmodel import Session, SQLModel

from hub.claims.models import SerialClaim
from hub.driver import in_names, in_values, run
from hub.multirow import insert_many
from hub.registry.models import CreditBlock
from hub.transfers.models import Transfer, TransferBatch

# Advisory locks on several names in ONE statement, in the order given (not sorted): the
# aggregate takes them one by one as the ordered subquery yields them.
LOCK_IN_ORDER_SQL = (
    "SELECT count(pg_advisory_xact_lock(hashtextextended(n, 0))) FROM"
    " (SELECT n FROM unnest(CAST(:names AS text[])) WITH ORDINALITY AS given(n, i) ORDER BY i) AS ordered"
)


class Known(NamedTuple):
    """A stored transfer that a proposal's key or id names — or, ``batch`` true, a batch of
    transfers proposed with the key (``id`` empty)."""

    id: str
    client_id: str
    idempotency_key: str
    body_hash: str
    batch: bool = False


class BlockFacts(NamedTuple):
    """What a transfer's checks read of a block (its record is not read): a
    :class:`hub.claims.service.HeldBlock`."""

    block_id: str
    serial_namespace: str
    serial_start: int
    serial_end: int
    status: str
    current_registry: str


BLOCK_COLUMNS = BlockFacts._fields
# a proposal naming up to this many blocks reads them with one statement per count, run on the
# driver (hub.driver); more, with one statement over an expanding list
FIXED_COUNTS = 16


def _claims() -> Table:
    return SQLModel.metadata.tables[SerialClaim.__tablename__]


@functools.cache
def _blocks_and_destination(count: int | None, *, with_destination: bool = True) -> Executable:
    """The facts of ``count`` blocks (None: of an expanding list), each row with the
    destination's status."""
    block = SQLModel.metadata.tables[CreditBlock.__tablename__]
    platform = SQLModel.metadata.tables["platform"]
    columns: list[Any] = [block.c[name] for name in BLOCK_COLUMNS]
    if with_destination:
        status = core_select(platform.c.status).where(platform.c.code == bindparam("destination"))
        columns.append(status.scalar_subquery().label("destination"))
    named = bindparam("ids", expanding=True) if count is None else in_names("id", count)
    return core_select(*columns).where(block.c.block_id.in_(named))


@functools.cache
def _statements() -> dict[str, Executable]:
    transfer = SQLModel.metadata.tables[Transfer.__tablename__]
    batch = SQLModel.metadata.tables[TransferBatch.__tablename__]
    platform = SQLModel.metadata.tables["platform"]
    return {
        # the transfer of the key, the transfer of the id, and a batch proposed with the key (a
        # key is for one request: a single proposal's key is not a batch's, nor the other way)
        "known": core_select(
            transfer.c.id,
            transfer.c.client_id,
            transfer.c.idempotency_key,
            transfer.c.body_hash,
            literal(False).label("batch"),
        )
        .where(
            or_(
                and_(
                    transfer.c.client_id == bindparam("client_id"),
                    transfer.c.idempotency_key == bindparam("key"),
                ),
                transfer.c.id == bindparam("id"),
            )
        )
        .union_all(
            core_select(
                literal("").label("id"),
                batch.c.client_id,
                batch.c.idempotency_key,
                batch.c.body_hash,
                literal(True).label("batch"),
            ).where(batch.c.client_id == bindparam("client_id"), batch.c.idempotency_key == bindparam("key"))
        ),
        # whether a single proposal used the key (a batch's key is not one)
        "key_used": core_select(transfer.c.id).where(
            transfer.c.client_id == bindparam("client_id"), transfer.c.idempotency_key == bindparam("key")
        ),
        # what a transfer's checks read of its blocks (their records are not read)
        "blocks": _blocks_and_destination(None, with_destination=False),
        # the same, each row with the destination's status (one statement for both reads)
        "blocks_and_destination": _blocks_and_destination(None),
        "platform_status": core_select(platform.c.status).where(platform.c.code == bindparam("code")),
        "platform_statuses": core_select(platform.c.code, platform.c.status).where(
            platform.c.code.in_(bindparam("codes", expanding=True))
        ),
        "existing": core_select(transfer.c.id).where(transfer.c.id.in_(bindparam("ids", expanding=True))),
        "insert": insert(transfer),
        "claims": insert(_claims()),
        "lock": text(LOCK_IN_ORDER_SQL),
    }


# PostgreSQL's channel on which a committed proposal wakes the idle transfer workers of every
# process (hub.transfers.listener): NOTIFY is delivered only when its transaction commits
DUE_CHANNEL = "puhui_transfers_due"
NOTIFY_DUE = text(f"NOTIFY {DUE_CHANNEL}")


class ProposalRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def announce_due(self) -> None:
        """On PostgreSQL, tell every process listening that transfers are due, once (and only if)
        this transaction commits; SQLite has no such channel (its workers look every poll interval)."""
        if self.session.get_bind().dialect.name == "postgresql":
            run(self.session.connection(), NOTIFY_DUE)

    def lock_in_order(self, names: Sequence[str]) -> None:
        """Take the advisory locks on ``names`` in the order given, in one round trip
        (PostgreSQL; SQLite serializes writers already). The same locks, in the same order, as
        ``ClaimRepository.lock`` taking them a group at a time."""
        if names and self.session.get_bind().dialect.name == "postgresql":
            run(self.session.connection(), _statements()["lock"], {"names": list(names)})

    def known(self, client_id: str, key: str, transfer_id: str) -> list[Known]:
        """The transfer of this client's key and the transfer of this id (one statement)."""
        rows = run(
            self.session.connection(),
            _statements()["known"],
            {"client_id": client_id, "key": key, "id": transfer_id},
        )
        return [Known(row[0], row[1], row[2], row[3], batch=bool(row[4])) for row in rows]

    def key_used(self, client_id: str, key: str) -> bool:
        """Whether this client proposed a single transfer with this key."""
        found = run(
            self.session.connection(), _statements()["key_used"], {"client_id": client_id, "key": key}
        )
        return found.first() is not None

    def transfer(self, transfer_id: str, *, for_update: bool = False) -> Transfer | None:
        """One transfer; ``for_update`` locks its row (PostgreSQL; SQLite writers are serialized)."""
        return self.session.get(Transfer, transfer_id, with_for_update=for_update or None)

    def locked_afresh(self, transfer_id: str) -> Transfer | None:
        """One transfer, or None, its row locked (PostgreSQL; SQLite writers are serialized) and
        read again even when the session knows it."""
        return self.session.get(Transfer, transfer_id, with_for_update=True, populate_existing=True)

    def batch(self, client_id: str, key: str) -> TransferBatch | None:
        """The batch this client proposed with this Idempotency-Key, or None."""
        return self.session.get(TransferBatch, (client_id, key))

    def blocks(self, ids: set[str]) -> dict[str, BlockFacts]:
        """The named blocks that exist, by id: what a transfer's checks read of them."""
        self.session.flush()  # what the session holds first, as the ORM would autoflush it
        found = self.session.connection().execute(_statements()["blocks"], {"ids": sorted(ids)})
        return {row[0]: BlockFacts(*row) for row in found}

    def blocks_and_destination(
        self, ids: set[str], destination: str
    ) -> tuple[dict[str, BlockFacts], str | None]:
        """``blocks(ids)`` and ``platform_status(destination)``, in one statement when any of the
        blocks exists (the status rides on every block's row)."""
        self.session.flush()
        connection, named = self.session.connection(), sorted(ids)
        if len(named) <= FIXED_COUNTS:
            params = in_values("id", named) | {"destination": destination}
            rows: Sequence[Any] = run(connection, _blocks_and_destination(len(named)), params).all()
        else:
            statement = _statements()["blocks_and_destination"]
            rows = connection.execute(statement, {"ids": named, "destination": destination}).all()
        if not rows:
            return {}, self.platform_status(destination)
        status = rows[0][-1]
        return {row[0]: BlockFacts(*row[:-1]) for row in rows}, (None if status is None else str(status))

    def platform_status(self, code: str) -> str | None:
        """The platform's status, None when there is no such platform."""
        found = run(self.session.connection(), _statements()["platform_status"], {"code": code}).first()
        return None if found is None else str(found[0])

    def platform_statuses(self, codes: Sequence[str]) -> dict[str, str]:
        """The status of each of these platforms that exists, by code."""
        rows = self.session.connection().execute(_statements()["platform_statuses"], {"codes": list(codes)})
        return {code: str(status) for code, status in rows}

    def existing(self, ids: Sequence[str]) -> set[str]:
        """Which of these transfer ids are taken."""
        rows = self.session.connection().execute(_statements()["existing"], {"ids": list(ids)})
        return {row[0] for row in rows}

    def add_many(self, rows: Sequence[dict[str, Any]]) -> None:
        """Insert accepted transfers (one statement, executed for every row)."""
        if rows:
            self.session.connection().execute(_statements()["insert"], list(rows))

    def add_claimed(self, row: dict[str, Any], claims: Sequence[dict[str, Any]]) -> None:
        """Insert one accepted transfer (as ``add``) and its serials' claims (their columns as
        ``hub.claims.repository.claim_rows`` makes them): one statement on PostgreSQL
        (``hub.multirow.insert_many``), the two inserts elsewhere."""
        self.session.flush()  # what the session holds first, as the ORM would autoflush it
        connection = self.session.connection()
        if connection.dialect.name != "postgresql":
            self.add(row)
            if claims:
                run(connection, _statements()["claims"], list(claims))
            return
        insert_many(
            connection, [(SQLModel.metadata.tables[Transfer.__tablename__], [row]), (_claims(), claims)]
        )

    def add(self, row: dict[str, Any]) -> None:
        """Insert one accepted transfer (its columns as ``TransferService.accepted_row`` makes them)."""
        run(self.session.connection(), _statements()["insert"], row)
