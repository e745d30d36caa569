"""authorization: administrator clients, forced keys, two-administrator key overrides

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-25
"""

import sqlalchemy as sa
from alembic import op

from hub.models import JSONType

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("oauth_client") as batch:
        batch.drop_constraint("client_kind", type_="check")
        batch.create_check_constraint("client_kind", "kind IN ('platform', 'operator', 'committee', 'admin')")
    with op.batch_alter_table("platform") as batch:
        batch.add_column(sa.Column("jwks_forced", sa.Boolean, nullable=False, server_default=sa.false()))
    op.create_table(
        "key_override",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("platform_code", sa.String(16), sa.ForeignKey("platform.code"), nullable=False),
        sa.Column("jwks", JSONType, nullable=False),
        sa.Column("reason", sa.String(2000), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("proposed_by", sa.String(64), nullable=False),
        sa.Column("proposed_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.Column("approved_by", sa.String(64), nullable=True),
        sa.Column("approved_at", TS, nullable=True),
        sa.CheckConstraint("status IN ('pending', 'applied')", name="key_override_status"),
        sa.CheckConstraint(
            "approved_by IS NULL OR approved_by <> proposed_by", name="key_override_four_eyes"
        ),
    )
    op.create_index("ix_key_override_platform_code", "key_override", ["platform_code"])


def downgrade() -> None:
    op.drop_index("ix_key_override_platform_code", table_name="key_override")
    op.drop_table("key_override")
    with op.batch_alter_table("platform") as batch:
        batch.drop_column("jwks_forced")
    op.execute("DELETE FROM oauth_client WHERE kind = 'admin'")
    with op.batch_alter_table("oauth_client") as batch:
        batch.drop_constraint("client_kind", type_="check")
        batch.create_check_constraint("client_kind", "kind IN ('platform', 'operator', 'committee')")
