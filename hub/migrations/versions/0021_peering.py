"""peering: the registry of peered hubs, cross-hub recognitions and the peer outbox

Revision ID: 0021_peering
Revises: 0018_idempotency
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0021_peering"
down_revision = "0020_witness"
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
    op.create_table(
        "federated_recognition",
        sa.Column("recognition_id", sa.String(36), primary_key=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("peer_origin", sa.String(200), nullable=False),
        sa.Column("signatures", JSON, nullable=False),
        sa.Column("created_at", TS, nullable=False),
    )
    op.create_index("ix_federated_recognition_peer_origin", "federated_recognition", ["peer_origin"])
    op.create_table(
        "peer_message",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("peer_origin", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("subject", sa.String(128), nullable=False),
        sa.Column("path", sa.String(300), nullable=False),
        sa.Column("body", JSON, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", TS, nullable=False),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("answer", JSON, nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("answered_at", TS, nullable=True),
        sa.UniqueConstraint("kind", "subject", "peer_origin", name="uq_peer_message_subject"),
    )
    op.create_index("ix_peer_message_status", "peer_message", ["status"])


def downgrade() -> None:
    op.drop_index("ix_peer_message_status", table_name="peer_message")
    op.drop_table("peer_message")
    op.drop_index("ix_federated_recognition_peer_origin", table_name="federated_recognition")
    op.drop_table("federated_recognition")
    op.drop_table("hub_peer")
