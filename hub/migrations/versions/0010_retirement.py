"""retirements

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

from hub.models import JSONType

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "retirement",
        sa.Column("registry_code", sa.String(16), primary_key=True),
        sa.Column("retirement_id", sa.String(128), primary_key=True),
        sa.Column("purpose", sa.String(40), nullable=False),
        sa.Column("quantity", sa.BigInteger, nullable=False),
        sa.Column("record", JSONType, nullable=False),
        sa.Column("log_index", sa.BigInteger, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("retirement")
