"""peering: the registry of peered hubs

Revision ID: 0021_peering
Revises: 0018_idempotency
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0021_peering"
down_revision = "0018_idempotency"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
JSON = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "hub_peer",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("origin", sa.String(200), nullable=False, unique=True),
        sa.Column("base_url", sa.String(500), nullable=False),
        sa.Column("jwks", JSON, nullable=False),
        sa.Column("log_vkeys", JSON, nullable=False),
        sa.Column("witness_vkeys", JSON, nullable=False),
        sa.Column("registries", JSON, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("registered_by", sa.String(64), nullable=False),
        sa.Column("registered_at", TS, nullable=False),
        sa.Column("changed_by", sa.String(64), nullable=False),
        sa.Column("changed_at", TS, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("hub_peer")
