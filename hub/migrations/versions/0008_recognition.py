"""recognitions and the serials they hold

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

from hub.models import JSONType

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "recognition",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("request_id", sa.String(128), nullable=False),
        sa.Column("origin", sa.String(16), nullable=False),
        sa.Column("destination", sa.String(16), nullable=False),
        sa.Column("purpose", sa.String(40), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("quantity", sa.BigInteger, nullable=False),
        sa.Column("converted_quantity", sa.BigInteger, nullable=False),
        sa.Column("request", JSONType, nullable=False),
        sa.Column("evaluation", JSONType, nullable=False),
        sa.Column("checks", JSONType, nullable=False),
        sa.Column("approvals", JSONType, nullable=False),
        sa.Column("decision_reason", sa.Text, nullable=True),
        sa.Column("certificate", JSONType, nullable=True),
        sa.Column("certificate_jws", sa.Text, nullable=True),
        sa.Column("requested_by", sa.String(64), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("decided_at", TS, nullable=True),
        sa.UniqueConstraint("origin", "request_id", name="recognition_request_once"),
        sa.CheckConstraint(
            "status IN ('pending_review', 'pending_second_approval', 'approved', 'rejected')",
            name="recognition_status",
        ),
    )
    op.create_index("ix_recognition_origin", "recognition", ["origin"])
    op.create_index("ix_recognition_destination", "recognition", ["destination"])
    op.create_table(
        "recognized_serials",
        sa.Column("recognition_id", sa.String(36), primary_key=True),
        sa.Column("namespace", sa.String(16), primary_key=True),
        sa.Column("serial_start", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("serial_end", sa.BigInteger, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
    )
    op.create_index("ix_recognized_serials_range", "recognized_serials", ["namespace", "serial_start"])


def downgrade() -> None:
    op.drop_table("recognized_serials")
    op.drop_table("recognition")
