"""ingest indexes: the duplicate-issuance probe reads other registries' claims by range; credit
blocks lose the indexes nothing reads (by ingest batch, by root block)

Revision ID: 0015_ingest
Revises: 0014
Create Date: 2026-11-30
"""

from alembic import op

revision = "0015_ingest"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_issuance_claim_fingerprint", table_name="issuance_claim")
    op.create_index(
        "ix_issuance_claim_project", "issuance_claim", ["fingerprint", "registry_code", "period_end"]
    )
    op.drop_index("ix_credit_block_batch_id", table_name="credit_block")
    op.drop_index("ix_credit_block_root", table_name="credit_block")


def downgrade() -> None:
    op.create_index("ix_credit_block_root", "credit_block", ["root_block_id"])
    op.create_index("ix_credit_block_batch_id", "credit_block", ["batch_id"])
    op.drop_index("ix_issuance_claim_project", table_name="issuance_claim")
    op.create_index("ix_issuance_claim_fingerprint", "issuance_claim", ["fingerprint"])
