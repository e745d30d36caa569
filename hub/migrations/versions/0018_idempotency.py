"""idempotency: stored answers of retried requests; signed requests found by client and jti

Revision ID: 0018_idempotency
Revises: 0017_notices
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0018_idempotency"
down_revision = "0017_notices"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "idempotency_record",
        sa.Column("client_id", sa.String(64), primary_key=True),
        sa.Column("key", sa.String(220), primary_key=True),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("answer", sa.Text, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
    )
    op.create_index("ix_idempotency_record_expires_at", "idempotency_record", ["expires_at"])
    op.create_index("ix_signed_request_client_jti", "signed_request", ["client_id", "jti"])


def downgrade() -> None:
    op.drop_index("ix_signed_request_client_jti", table_name="signed_request")
    op.drop_index("ix_idempotency_record_expires_at", table_name="idempotency_record")
    op.drop_table("idempotency_record")
