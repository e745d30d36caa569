"""notices to origin platforms: an outbox of retirement and transfer-completed notices

Revision ID: 0017_notices
Revises: 0016_batch
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

from hub.models import JSONType

revision = "0017_notices"
down_revision = "0016_batch"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "origin_notice",
        sa.Column("kind", sa.String(32), primary_key=True),
        sa.Column("subject", sa.String(200), primary_key=True),
        sa.Column("platform_code", sa.String(16), primary_key=True),
        sa.Column("idempotency_key", sa.String(64), nullable=False),
        sa.Column("body", JSONType, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", TS, nullable=False),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("answered_at", TS, nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.CheckConstraint(
            "status IN ('pending', 'acknowledged', 'refused', 'dead')", name="ck_origin_notice_status"
        ),
    )
    op.create_index("ix_origin_notice_due", "origin_notice", ["status", "next_attempt_at"])


def downgrade() -> None:
    op.drop_index("ix_origin_notice_due", table_name="origin_notice")
    op.drop_table("origin_notice")
