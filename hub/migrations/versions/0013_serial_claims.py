"""one reservation model: serial claims, enforced by the database

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30

Replaces ``recognized_serials`` and ``transfer_serials`` by one ``serial_claim`` table that every
operation holding serials writes (recognition, certificate, transfer, pledge, retirement). At most
one active claim covers a serial: an exclusion constraint on PostgreSQL, triggers on SQLite.
Existing holds are carried over, strongest first (retired, transfer, pledge — the block's
status —, certificate, recognition); a hold that overlaps one already carried over (the double
holds this revision exists to prevent) is carried over inactive and reported in the migration's
log.
"""

import json
import logging
import re
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from hub.models import JSONType

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")

KINDS = ("recognition", "certificate", "transfer", "pledge", "retirement")

SQLITE_GUARD = """
CREATE TRIGGER serial_claim_one_active_{when} BEFORE {event} ON serial_claim
WHEN NEW.active AND EXISTS (
    SELECT 1 FROM (
        SELECT serial_end FROM serial_claim
        WHERE namespace = NEW.namespace AND active AND id IS NOT NEW.id AND serial_start <= NEW.serial_end
        ORDER BY serial_start DESC LIMIT 1
    ) WHERE serial_end >= NEW.serial_start
)
BEGIN SELECT RAISE(ABORT, 'serial_claim_one_active: the serials are claimed already'); END
"""


def _create() -> None:
    op.create_table(
        "serial_claim",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True, autoincrement=True
        ),
        sa.Column("namespace", sa.String(16), nullable=False),
        sa.Column("serial_start", sa.BigInteger, nullable=False),
        sa.Column("serial_end", sa.BigInteger, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("owner_id", sa.String(160), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("serial_start >= 1 AND serial_end >= serial_start", name="serial_claim_range"),
        sa.CheckConstraint(f"kind IN {KINDS!r}", name="serial_claim_kind"),
    )
    op.create_index(
        "ix_serial_claim_active",
        "serial_claim",
        ["namespace", "serial_start"],
        postgresql_where=sa.text("active"),
        sqlite_where=sa.text("active"),
    )
    op.create_index("ix_serial_claim_owner", "serial_claim", ["owner_id", "kind"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
        op.execute(
            "ALTER TABLE serial_claim ADD CONSTRAINT serial_claim_one_active EXCLUDE USING gist"
            " (namespace WITH =, int8range(serial_start, serial_end, '[]') WITH &&) WHERE (active)"
        )
    else:
        op.execute(SQLITE_GUARD.format(when="insert", event="INSERT"))
        op.execute(SQLITE_GUARD.format(when="update", event="UPDATE"))


def _holds(bind: sa.Connection) -> list[tuple[str, int, int, str, str]]:
    """Every hold of the old tables, strongest first: (namespace, start, end, kind, owner)."""
    retired = bind.execute(
        sa.text(
            "SELECT serial_namespace, serial_start, serial_end, block_id FROM credit_block"
            " WHERE status = 'retired'"
        )
    ).all()
    transfers = bind.execute(
        sa.text("SELECT namespace, serial_start, serial_end, transfer_id FROM transfer_serials WHERE active")
    ).all()
    recognized = bind.execute(
        sa.text(
            "SELECT s.namespace, s.serial_start, s.serial_end, r.id, r.status FROM recognized_serials s"
            " JOIN recognition r ON r.id = s.recognition_id WHERE s.active"
            " AND r.status IN ('pending_review', 'pending_second_approval', 'approved')"
        )
    ).all()
    pledged = bind.execute(
        sa.text(
            "SELECT serial_namespace, serial_start, serial_end, block_id FROM credit_block"
            " WHERE status = 'encumbered'"
        )
    ).all()
    holds = [(ns, s, e, "retirement", f"block:{b}") for ns, s, e, b in retired]
    holds += [(ns, s, e, "transfer", t) for ns, s, e, t in transfers]
    holds += [(ns, s, e, "pledge", f"block:{b}") for ns, s, e, b in pledged]
    holds += [
        (ns, s, e, "certificate", f"RC-{r}") for ns, s, e, r, status in recognized if status == "approved"
    ]
    holds += [(ns, s, e, "recognition", r) for ns, s, e, r, status in recognized if status != "approved"]
    return holds


def _carry_over() -> None:
    bind = op.get_bind()
    taken: dict[str, list[tuple[int, int]]] = {}
    rows = []
    now = datetime.now(UTC)
    for namespace, start, end, kind, owner in _holds(bind):
        clash = any(start <= e and s <= end for s, e in taken.get(namespace, []))
        if clash:
            log.warning(
                "serial_claim: %s %s %s-%s overlaps a stronger hold; carried over inactive",
                kind,
                owner,
                start,
                end,
            )
        else:
            taken.setdefault(namespace, []).append((start, end))
        rows.append(
            {
                "namespace": namespace,
                "serial_start": start,
                "serial_end": end,
                "kind": kind,
                "owner_id": owner,
                "active": not clash,
                "created_at": now,
                "released_at": now if clash else None,
            }
        )
    if rows:
        table = sa.table(
            "serial_claim",
            *(sa.column(name) for name in rows[0]),
        )
        op.bulk_insert(table, rows)


RANGE_SUFFIX = re.compile(r"^(.+):(\d+)-(\d+)$")
REGISTRY_PREFIX = re.compile(r"^[A-Z][A-Z0-9]{1,15}:(.+)$")


def _flat(block_id: str, origin: str, registry: str, start: int, end: int) -> tuple[str, str]:
    """(root, flat id) of a block whose id nests earlier splits and imports (``SH:JS-1:1-9:2-3``)."""
    root, pieced = block_id, False
    while True:
        if (found := RANGE_SUFFIX.match(root)) is not None:
            root, pieced = found.group(1), True
        elif (found := REGISTRY_PREFIX.match(root)) is not None and root.split(":", 1)[0] in (
            origin,
            registry,
        ):
            root = found.group(1)
        else:
            break
    base = root if registry == origin else f"{registry}:{root}"
    return root, (f"{base}:{start}-{end}" if pieced else base)


def _flatten_block_ids() -> None:
    """Stable block identity: every piece's id becomes ``<root>:<start>-<end>`` (prefixed with the
    registry outside the origin), ``root_block_id`` names the root; transfers follow the renames."""
    op.add_column("credit_block", sa.Column("root_block_id", sa.String(128), nullable=True))
    op.create_index("ix_credit_block_root", "credit_block", ["root_block_id"])
    bind = op.get_bind()
    rows = bind.execute(
        sa.text(
            "SELECT block_id, origin_registry, current_registry, serial_start, serial_end FROM credit_block"
            " WHERE block_id LIKE '%:%'"
        )
    ).all()
    taken = {r[0] for r in bind.execute(sa.text("SELECT block_id FROM credit_block")).all()}
    renamed: dict[str, str] = {}
    for block_id, origin, registry, start, end in rows:
        root, flat = _flat(block_id, origin, registry, start, end)
        if root == block_id:
            continue
        if flat != block_id and flat in taken:
            log.warning("credit_block: %s keeps its id; %s is taken", block_id, flat)
            flat = block_id
        bind.execute(
            sa.text("UPDATE credit_block SET block_id = :new, root_block_id = :root WHERE block_id = :old"),
            {"new": flat, "root": root, "old": block_id},
        )
        if flat != block_id:
            taken.discard(block_id)
            taken.add(flat)
            renamed[block_id] = flat
    if not renamed:
        return
    for block_id, record in bind.execute(
        sa.text("SELECT block_id, record FROM credit_block WHERE root_block_id IS NOT NULL")
    ).all():
        data = json.loads(record) if isinstance(record, str) else record
        if data.get("block_id") != block_id:
            data["block_id"] = block_id
            bind.execute(
                sa.text("UPDATE credit_block SET record = :record WHERE block_id = :id").bindparams(
                    sa.bindparam("record", type_=JSONType)
                ),
                {"record": data, "id": block_id},
            )
    for transfer_id, request in bind.execute(sa.text("SELECT id, request FROM transfer")).all():
        data = json.loads(request) if isinstance(request, str) else request
        pieces = data.get("pieces", [])
        if any(piece in renamed for piece in pieces):
            data["pieces"] = [renamed.get(piece, piece) for piece in pieces]
            bind.execute(
                sa.text("UPDATE transfer SET request = :request WHERE id = :id").bindparams(
                    sa.bindparam("request", type_=JSONType)
                ),
                {"request": data, "id": transfer_id},
            )


def upgrade() -> None:
    _create()
    _flatten_block_ids()
    _carry_over()
    op.drop_table("recognized_serials")
    op.drop_table("transfer_serials")
    with op.batch_alter_table("recognition") as batch:
        batch.drop_constraint("recognition_status", type_="check")
        batch.create_check_constraint(
            "recognition_status",
            "status IN ('pending_review', 'pending_second_approval', 'approved', 'rejected',"
            " 'used', 'withdrawn')",
        )
        batch.add_column(sa.Column("used_by", sa.String(160), nullable=True))


def downgrade() -> None:
    raise RuntimeError("0013 cannot be downgraded: the old tables allowed the double holds it removed")
