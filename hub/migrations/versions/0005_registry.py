"""block registry: projects, credit blocks, personal batches, ingest batches

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

from hub.models import JSONType

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
STATUSES = "('held', 'locked', 'exported', 'imported', 'retired', 'cancelled', 'encumbered')"


def upgrade() -> None:
    op.create_table(
        "project",
        sa.Column("registry_code", sa.String(16), primary_key=True),
        sa.Column("project_id", sa.String(128), primary_key=True),
        sa.Column("record", JSONType, nullable=False),
        sa.Column("batch_id", sa.String(36), nullable=False),
    )
    op.create_table(
        "credit_block",
        sa.Column("block_id", sa.String(128), primary_key=True),
        sa.Column("origin_registry", sa.String(16), nullable=False),
        sa.Column("current_registry", sa.String(16), nullable=False),
        sa.Column("serial_namespace", sa.String(16), nullable=False),
        sa.Column("serial_start", sa.BigInteger, nullable=False),
        sa.Column("serial_end", sa.BigInteger, nullable=False),
        sa.Column("quantity", sa.BigInteger, nullable=False),
        sa.Column("vintage", sa.Integer, nullable=False),
        sa.Column("catalogue_id", sa.String(64), nullable=False),
        sa.Column("project_registry", sa.String(16), nullable=False),
        sa.Column("project_id", sa.String(128), nullable=False),
        sa.Column("holder_account", sa.String(128), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("record", JSONType, nullable=False),
        sa.Column("batch_id", sa.String(36), nullable=False),
        sa.CheckConstraint("serial_start >= 1 AND serial_end >= serial_start", name="block_serials"),
        sa.CheckConstraint("quantity = serial_end - serial_start + 1", name="block_quantity"),
        sa.CheckConstraint(f"status IN {STATUSES}", name="block_status"),
    )
    op.create_index("ix_credit_block_serials", "credit_block", ["serial_namespace", "serial_start"])
    op.create_index("ix_credit_block_current_registry", "credit_block", ["current_registry"])
    op.create_index("ix_credit_block_batch_id", "credit_block", ["batch_id"])
    op.create_table(
        "personal_batch",
        sa.Column("batch_id", sa.String(128), primary_key=True),
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("scenario", sa.String(64), nullable=False),
        sa.Column("quantity", sa.BigInteger, nullable=False),
        sa.Column("record", JSONType, nullable=False),
        sa.Column("ingest_id", sa.String(36), nullable=False),
        sa.CheckConstraint("quantity >= 0", name="personal_quantity"),
    )
    op.create_index("ix_personal_batch_platform", "personal_batch", ["platform"])
    op.create_table(
        "ingest_batch",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("projects", sa.Integer, nullable=False),
        sa.Column("blocks", sa.Integer, nullable=False),
        sa.Column("tonnes", sa.BigInteger, nullable=False),
        sa.Column("personal_batches", sa.Integer, nullable=False),
        sa.Column("grams", sa.BigInteger, nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("log_index", sa.BigInteger, nullable=False),
        sa.Column("received_at", TS, nullable=False),
    )
    op.create_index("ix_ingest_batch_platform", "ingest_batch", ["platform"])


def downgrade() -> None:
    for table in ["ingest_batch", "personal_batch", "credit_block", "project"]:
        op.drop_table(table)
