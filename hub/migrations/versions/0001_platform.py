"""platform directory

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

from hub.models import JSONType

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "platform",
        sa.Column("code", sa.String(16), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("name_zh", sa.String(200), nullable=False),
        sa.Column("region", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("api_base_url", sa.String(500), nullable=False),
        sa.Column("webhook_url", sa.String(500), nullable=True),
        sa.Column("grams_per_point", sa.BigInteger, nullable=True),
        sa.Column("points_note", sa.String(500), nullable=True),
        sa.Column("demonstration", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("status", sa.String(16), nullable=False, server_default="active"),
        sa.Column("jwks", JSONType, nullable=False),
        sa.Column("scopes", JSONType, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('provincial', 'municipal', 'national', 'hub')", name="platform_kind"),
        sa.CheckConstraint("status IN ('active', 'suspended')", name="platform_status"),
        sa.CheckConstraint("grams_per_point IS NULL OR grams_per_point >= 1", name="platform_points"),
    )


def downgrade() -> None:
    op.drop_table("platform")
