"""xtransfer: each hub's half of a transfer between platforms of two peered hubs

Revision ID: 0023_xtransfer
Revises: 0021_peering
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0023_xtransfer"
down_revision = "0022_xdedup"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
JSON = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "federated_transfer",
        sa.Column("peer_origin", sa.String(200), primary_key=True),
        sa.Column("transfer_id", sa.String(128), primary_key=True),
        sa.Column("role", sa.String(16), primary_key=True),
        sa.Column("phase", sa.String(16), nullable=False),
        sa.Column("origin_registry", sa.String(16), nullable=False),
        sa.Column("destination_registry", sa.String(16), nullable=False),
        sa.Column("quantity", sa.BigInteger, nullable=False),
        sa.Column("request", JSON, nullable=False),
        sa.Column("credited", JSON, nullable=False),
        sa.Column("history", JSON, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", TS, nullable=False),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index("ix_federated_transfer_due", "federated_transfer", ["role", "phase", "next_attempt_at"])
    # a transfer id names one inbound transfer on this hub, whichever peer sent it
    op.create_index(
        "uq_federated_transfer_id_role", "federated_transfer", ["transfer_id", "role"], unique=True
    )


def downgrade() -> None:
    op.drop_index("uq_federated_transfer_id_role", table_name="federated_transfer")
    op.drop_index("ix_federated_transfer_due", table_name="federated_transfer")
    op.drop_table("federated_transfer")
