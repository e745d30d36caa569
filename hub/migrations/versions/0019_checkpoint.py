"""checkpoint: the latest signed checkpoint of the log (c2sp.org/tlog-checkpoint) and its cosignatures

Revision ID: 0019_checkpoint
Revises: 0018_idempotency
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0019_checkpoint"
down_revision = "0018_idempotency"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "log_checkpoint",
        sa.Column("origin", sa.String(255), primary_key=True),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("root_hash", sa.LargeBinary, nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("cosignatures", sa.Text, nullable=False, server_default=""),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("log_checkpoint")
