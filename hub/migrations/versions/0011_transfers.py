"""transfers and the serials they hold

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

from hub.models import JSONType

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "transfer",
        sa.Column("id", sa.String(128), primary_key=True),
        sa.Column("client_id", sa.String(64), nullable=False),
        sa.Column("idempotency_key", sa.String(200), nullable=False),
        sa.Column("body_hash", sa.String(64), nullable=False),
        sa.Column("origin", sa.String(16), nullable=False),
        sa.Column("destination", sa.String(16), nullable=False),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("itl_status", sa.Integer, nullable=False),
        sa.Column("quantity", sa.BigInteger, nullable=False),
        sa.Column("request", JSONType, nullable=False),
        sa.Column("history", JSONType, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", TS, nullable=False),
        sa.Column("deadline", TS, nullable=False),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.UniqueConstraint("client_id", "idempotency_key", name="transfer_idempotency"),
    )
    op.create_index("ix_transfer_due", "transfer", ["state", "next_attempt_at"])
    op.create_index("ix_transfer_origin", "transfer", ["origin"])
    op.create_index("ix_transfer_destination", "transfer", ["destination"])
    op.create_table(
        "transfer_serials",
        sa.Column("transfer_id", sa.String(128), primary_key=True),
        sa.Column("namespace", sa.String(16), primary_key=True),
        sa.Column("serial_start", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("serial_end", sa.BigInteger, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("transfer_serials")
    op.drop_table("transfer")
