"""committee roots and published rulesets

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

from hub.models import JSONType

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "committee_root",
        sa.Column("committee_id", sa.String(64), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("envelope", JSONType, nullable=False),
        sa.Column("received", sa.Text, nullable=False),
        sa.Column("expires", TS, nullable=False),
        sa.Column("installed_by", sa.String(64), nullable=False),
        sa.Column("installed_at", TS, nullable=False),
        sa.CheckConstraint("version >= 1", name="committee_root_version"),
    )
    op.create_table(
        "ruleset",
        sa.Column("ruleset_id", sa.String(128), primary_key=True),
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("committee_id", sa.String(64), nullable=False),
        sa.Column("envelope", JSONType, nullable=False),
        sa.Column("received", sa.Text, nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("effective_from", sa.Date, nullable=False),
        sa.Column("effective_until", sa.Date, nullable=True),
        sa.Column("signed_by", JSONType, nullable=False),
        sa.Column("published_by", sa.String(64), nullable=False),
        sa.Column("published_at", TS, nullable=False),
        sa.CheckConstraint("version >= 1", name="ruleset_version"),
    )
    op.create_index("ix_ruleset_committee_id", "ruleset", ["committee_id"])
    op.create_index("ix_ruleset_effective", "ruleset", ["effective_from", "effective_until"])


def downgrade() -> None:
    op.drop_table("ruleset")
    op.drop_table("committee_root")
