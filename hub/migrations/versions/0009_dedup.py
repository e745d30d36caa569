"""deduplication claims: issuance periods by project fingerprint, personal activities

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "issuance_claim",
        sa.Column("block_id", sa.String(128), primary_key=True),
        sa.Column("registry_code", sa.String(16), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("period_start", sa.Date, nullable=False),
        sa.Column("period_end", sa.Date, nullable=False),
    )
    op.create_index("ix_issuance_claim_fingerprint", "issuance_claim", ["fingerprint"])
    op.create_table(
        "personal_activity",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True
        ),
        sa.Column("platform", sa.String(16), nullable=False),
        sa.Column("batch_id", sa.String(128), nullable=False),
        sa.Column("record_id", sa.String(128), nullable=False),
        sa.Column("subject", sa.String(64), nullable=False),
        sa.Column("scenario", sa.String(64), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("window_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("trip_id", sa.String(128), nullable=True),
    )
    op.create_index("ix_personal_activity_subject", "personal_activity", ["subject", "scenario"])


def downgrade() -> None:
    op.drop_table("personal_activity")
    op.drop_table("issuance_claim")
