"""witness: the logs this hub witnesses (c2sp.org/tlog-witness), the latest checkpoint cosigned per
origin, the evidence of split views (the alarms), and what each witness last cosigned of our log

Revision ID: 0020_witness
Revises: 0019_checkpoint
Create Date: 2026-11-30
"""

import sqlalchemy as sa
from alembic import op

revision = "0020_witness"
down_revision = "0019_checkpoint"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "witnessed_log",
        sa.Column("origin", sa.String(255), primary_key=True),
        sa.Column("vkeys", sa.Text, nullable=False),
        sa.Column("base_url", sa.String(2048), nullable=True),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("added_by", sa.String(255), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "witness_checkpoint",
        sa.Column("origin", sa.String(255), primary_key=True),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("root_hash", sa.LargeBinary, nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("cosigned_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "witness_evidence",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("origin", sa.String(255), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("reporter", sa.String(255), nullable=False),
        sa.Column("stored_size", sa.BigInteger, nullable=True),
        sa.Column("stored_root", sa.LargeBinary, nullable=True),
        sa.Column("stored_note", sa.Text, nullable=False),
        sa.Column("refused_size", sa.BigInteger, nullable=True),
        sa.Column("refused_root", sa.LargeBinary, nullable=True),
        sa.Column("refused_note", sa.Text, nullable=False),
        sa.Column("proof", sa.Text, nullable=False),
        sa.Column("digest", sa.String(64), nullable=False, unique=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_by", sa.String(255), nullable=True),
    )
    op.create_index("ix_witness_evidence_open", "witness_evidence", ["acknowledged_at", "id"])
    op.create_table(
        "witness_submission",
        sa.Column("witness", sa.String(1024), primary_key=True),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Column("attempted_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("witness_submission")
    op.drop_index("ix_witness_evidence_open", table_name="witness_evidence")
    op.drop_table("witness_evidence")
    op.drop_table("witness_checkpoint")
    op.drop_table("witnessed_log")
