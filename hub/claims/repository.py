"""Every query of the serial-claim table."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, text, update
from sqlmodel import Session, SQLModel, col, select

from hub.claims.models import SerialClaim
from hub.driver import run
from mutual_recognition.claims import ClaimKind

# The active claim starting last before ``start`` and every active claim starting inside
# [start, end]: active claims never overlap, so these are the only ones that can touch the range
# (two ordered scans of the partial index ix_serial_claim_active).
OVERLAPPING_SQL = (
    "SELECT * FROM (SELECT id, serial_start, serial_end, kind, owner_id FROM serial_claim"
    " WHERE namespace = :ns AND active AND serial_start < :low ORDER BY serial_start DESC LIMIT 1)"
    " AS before_low WHERE serial_end >= :low"
    " UNION ALL SELECT id, serial_start, serial_end, kind, owner_id FROM serial_claim"
    " WHERE namespace = :ns AND active AND serial_start >= :low AND serial_start <= :high"
)

OVERLAPPING = text(OVERLAPPING_SQL)  # built once: building the clause costs more than running it


# Advisory locks on many names in one statement, in code point order (as ``sorted`` orders them):
# the aggregate takes them one by one as the ordered subquery yields them.
LOCK_MANY_SQL = (
    "SELECT count(pg_advisory_xact_lock(hashtextextended(n, 0))) FROM"
    ' (SELECT n FROM unnest(CAST(:names AS text[])) AS n ORDER BY n COLLATE "C") AS ordered'
)


def pledge_owner(block_id: str) -> str:
    return f"block:{block_id}"


@dataclass(frozen=True, slots=True)
class ActiveClaim:
    id: int
    start: int
    end: int
    kind: ClaimKind
    owner: str


@dataclass(frozen=True, slots=True)
class NewClaim:
    namespace: str
    start: int
    end: int


class ClaimRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def lock(self, namespaces: Iterable[str]) -> None:
        """Serialize claim writers per namespace (the ingest's advisory lock on PostgreSQL; SQLite
        write transactions are serialized already). The constraint is the guarantee; the lock
        makes a race end in a clean refusal instead of a constraint violation. Other names (an
        idempotency key) lock the same way; callers take them before any namespace, in order."""
        if self.session.get_bind().dialect.name != "postgresql":
            return
        names = sorted(set(namespaces))
        if len(names) == 1:
            self.session.execute(
                text("SELECT pg_advisory_xact_lock(hashtextextended(:ns, 0))"), {"ns": names[0]}
            )
        elif names:  # one round trip, taken in the same (code point) order
            self.session.execute(text(LOCK_MANY_SQL), {"names": names})

    def overlapping(self, namespace: str, low: int, high: int) -> list[ActiveClaim]:
        """Active claims of ``namespace`` sharing a serial with [low, high], in serial order."""
        self.session.flush()
        rows = run(self.session.connection(), OVERLAPPING, {"ns": namespace, "low": low, "high": high})
        found = [
            ActiveClaim(id_, start, end, ClaimKind(kind), owner) for id_, start, end, kind, owner in rows
        ]
        return sorted(found, key=lambda claim: claim.start)

    def overlapping_any(self, namespace: str, ranges: Sequence[tuple[int, int]]) -> list[ActiveClaim]:
        """Active claims of ``namespace`` among which are all those sharing a serial with any of
        ``ranges`` (and perhaps some between them), in serial order, each once. Ranges close
        together are read as one span (:meth:`overlapping`): one statement for a batch naming
        neighbouring serials, and never more claims between its ranges than the serials they
        name (a gap wider than the span so far starts another span)."""
        spans: list[list[int]] = []  # [low, high, serials named]
        for low, high in sorted(ranges):
            if spans and low - spans[-1][1] - 1 <= spans[-1][2]:
                spans[-1][1] = max(spans[-1][1], high)
                spans[-1][2] += high - low + 1
            else:
                spans.append([low, high, high - low + 1])
        found: dict[int, ActiveClaim] = {}
        for low, high, _ in spans:
            found |= {claim.id: claim for claim in self.overlapping(namespace, low, high)}
        return sorted(found.values(), key=lambda claim: claim.start)

    def add(self, kind: ClaimKind, owner: str, claims: Sequence[NewClaim]) -> None:
        self.add_each(kind, [(owner, claim) for claim in claims])

    def add_each(self, kind: ClaimKind, owned: Sequence[tuple[str, NewClaim]]) -> None:
        """Claims of several owners in one statement (Core: no ORM bulk machinery; what the
        session holds is flushed first, as the ORM statement would autoflush it)."""
        if owned:
            self.session.flush()
            self.session.connection().execute(
                insert(SQLModel.metadata.tables[SerialClaim.__tablename__]), claim_rows(kind, owned)
            )

    def release(self, kind: ClaimKind, owner: str) -> int:
        """End the active claims of ``owner``; how many ended."""
        result = self.session.execute(
            update(SerialClaim)
            .where(
                col(SerialClaim.owner_id) == owner,
                col(SerialClaim.kind) == str(kind),
                col(SerialClaim.active).is_(True),
            )
            .values(active=False, released_at=datetime.now(UTC))
            # claims are read as values, never kept as objects to update: nothing to synchronize
            .execution_options(synchronize_session=False)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    def release_each(self, kind: ClaimKind, owners: Sequence[str]) -> int:
        """:meth:`release` for many owners in one statement; how many claims ended."""
        if not owners:
            return 0
        result = self.session.execute(
            update(SerialClaim)
            .where(
                col(SerialClaim.owner_id).in_(sorted(set(owners))),
                col(SerialClaim.kind) == str(kind),
                col(SerialClaim.active).is_(True),
            )
            .values(active=False, released_at=datetime.now(UTC))
            .execution_options(synchronize_session=False)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    def hand_over(self, kind: ClaimKind, owner: str, new_kind: ClaimKind, new_owner: str) -> int:
        """The active claims of ``owner`` pass to ``new_owner`` (an approval: the recognition's
        claims become its certificate's); how many passed."""
        result = self.session.execute(
            update(SerialClaim)
            .where(
                col(SerialClaim.owner_id) == owner,
                col(SerialClaim.kind) == str(kind),
                col(SerialClaim.active).is_(True),
            )
            .values(kind=str(new_kind), owner_id=new_owner)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    def of(self, kind: ClaimKind, owner: str, *, active: bool = True) -> list[SerialClaim]:
        query = select(SerialClaim).where(
            SerialClaim.owner_id == owner, SerialClaim.kind == str(kind), SerialClaim.active == active
        )
        return list(
            self.session.exec(query.order_by(col(SerialClaim.namespace), col(SerialClaim.serial_start)))
        )


def claim_rows(kind: ClaimKind, owned: Sequence[tuple[str, NewClaim]]) -> list[dict[str, Any]]:
    """The rows of new active claims of ``kind``, each of its owner."""
    now = datetime.now(UTC)
    return [
        {
            "namespace": c.namespace,
            "serial_start": c.start,
            "serial_end": c.end,
            "kind": str(kind),
            "owner_id": owner,
            "active": True,
            "created_at": now,
        }
        for owner, c in owned
    ]
