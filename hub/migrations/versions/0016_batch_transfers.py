"""batch transfers: a batch of proposals kept for its Idempotency-Key

Revision ID: 0016_batch
Revises: 0015_ingest
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

from hub.models import JSONType

revision = "0016_batch"
down_revision = "0015_ingest"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "transfer_batch",
        sa.Column("client_id", sa.String(64), primary_key=True),
        sa.Column("idempotency_key", sa.String(200), primary_key=True),
        sa.Column("body_hash", sa.String(64), nullable=False),
        sa.Column("answer", JSONType, nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("transfer_batch")
