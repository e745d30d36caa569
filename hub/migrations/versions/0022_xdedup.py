"""xdedup: claims published to peered hubs (claim_feed), per-peer pull cursors, room for peers' claims

Revision ID: 0022_xdedup
Revises: 0021_peering
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0022_xdedup"
down_revision = "0021_peering"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)
PEER_ROWS = "batch_id LIKE '@%'"


def upgrade() -> None:
    op.create_table(
        "claim_feed",
        sa.Column("log_index", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("position", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("registry_code", sa.String(16), nullable=False),
        sa.Column("ref", sa.String(260), nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("scenario", sa.String(64), nullable=True),
        sa.Column("starts", sa.String(40), nullable=False),
        sa.Column("ends", sa.String(40), nullable=False),
        sa.Column("trip_id", sa.String(128), nullable=True),
    )
    op.create_table(
        "peer_claim_cursor",
        sa.Column("peer_origin", sa.String(200), primary_key=True),
        sa.Column("log_index", sa.BigInteger, nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("claims", sa.BigInteger, nullable=False),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("next_pull_at", TS, nullable=False),
        sa.Column("pulled_at", TS, nullable=True),
        sa.Column("last_code", sa.String(8), nullable=True),
        sa.Column("last_error", sa.Text, nullable=True),
    )
    # a peer's claims are stored under "@<peer origin>/<its id>" (no local identifier starts with @)
    if op.get_bind().dialect.name == "postgresql":  # SQLite does not enforce lengths
        op.alter_column("issuance_claim", "block_id", type_=sa.String(400), existing_type=sa.String(128))
        op.alter_column("personal_activity", "batch_id", type_=sa.String(400), existing_type=sa.String(128))
    op.create_index(
        "ux_personal_activity_peer",
        "personal_activity",
        ["batch_id", "record_id"],
        unique=True,
        postgresql_where=sa.text(PEER_ROWS),
        sqlite_where=sa.text(PEER_ROWS),
    )


def downgrade() -> None:
    op.drop_index("ux_personal_activity_peer", table_name="personal_activity")
    op.execute("DELETE FROM issuance_claim WHERE block_id LIKE '@%'")
    op.execute("DELETE FROM personal_activity WHERE batch_id LIKE '@%'")
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column("personal_activity", "batch_id", type_=sa.String(128), existing_type=sa.String(400))
        op.alter_column("issuance_claim", "block_id", type_=sa.String(128), existing_type=sa.String(400))
    op.drop_table("peer_claim_cursor")
    op.drop_table("claim_feed")
