"""transparency log, tree heads, event recipients, webhook deliveries

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "log_head",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.CheckConstraint("id = 1", name="log_head_single_row"),
    )
    op.execute("INSERT INTO log_head (id, size) VALUES (1, 0)")
    op.create_table(
        "log_entry",
        sa.Column("index", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("entry", sa.LargeBinary, nullable=False),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("subject_kind", sa.String(32), nullable=False),
        sa.Column("subject_id", sa.String(128), nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index("ix_log_entry_type", "log_entry", ["type"])
    op.create_index("ix_log_entry_subject_id", "log_entry", ["subject_id"])
    op.create_table(
        "log_node",
        sa.Column("level", sa.SmallInteger, primary_key=True, autoincrement=False),
        sa.Column("idx", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("hash", sa.LargeBinary, nullable=False),
    )
    op.create_table(
        "tree_head",
        sa.Column("size", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("root_hash", sa.String(64), nullable=False),
        sa.Column("timestamp", sa.BigInteger, nullable=False),
        sa.Column("signature", sa.Text, nullable=False),
    )
    op.create_table(
        "event_recipient",
        sa.Column("platform_code", sa.String(16), primary_key=True),
        sa.Column("index", sa.BigInteger, primary_key=True, autoincrement=False),
    )
    op.create_table(
        "webhook_delivery",
        sa.Column("index", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("platform_code", sa.String(16), primary_key=True),
        sa.Column("url", sa.String(500), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", TS, nullable=False),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("delivered_at", TS, nullable=True),
        sa.CheckConstraint("status IN ('pending', 'delivered', 'dead')", name="webhook_status"),
    )
    op.create_index("ix_webhook_delivery_due", "webhook_delivery", ["status", "next_attempt_at"])


def downgrade() -> None:
    for table in ["webhook_delivery", "event_recipient", "tree_head", "log_node", "log_entry", "log_head"]:
        op.drop_table(table)
