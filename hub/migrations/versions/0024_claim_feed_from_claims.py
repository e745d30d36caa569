"""claim feed from claims: a local issuance claim carries its place in the feed (log index,
position), so the feed's issuance entries are read from issuance_claim and claim_feed keeps the
activity entries only (one row per ingested block fewer)

Revision ID: 0024_claim_feed_from_claims
Revises: 0023_xtransfer
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0024_claim_feed_from_claims"
down_revision = "0023_xtransfer"
branch_labels = None
depends_on = None

PUBLISHED = "log_index IS NOT NULL"


def upgrade() -> None:
    op.add_column("issuance_claim", sa.Column("log_index", sa.BigInteger, nullable=True))
    op.add_column("issuance_claim", sa.Column("position", sa.Integer, nullable=True))
    # each published issuance takes its (log index, position) from its feed entry (one join on the
    # claim's primary key); claims stored before the feed existed (0022) stay unpublished, as before
    op.execute(
        "UPDATE issuance_claim SET log_index = f.log_index, position = f.position FROM claim_feed AS f"
        " WHERE f.kind = 'issuance' AND f.ref = issuance_claim.block_id"
    )
    op.execute("DELETE FROM claim_feed WHERE kind = 'issuance'")
    op.create_index(
        "ux_issuance_claim_feed",
        "issuance_claim",
        ["log_index", "position"],
        unique=True,
        postgresql_where=sa.text(PUBLISHED),
        sqlite_where=sa.text(PUBLISHED),
    )
    with op.batch_alter_table("claim_feed") as batch:
        batch.create_check_constraint("ck_claim_feed_activity", "kind = 'activity'")


def downgrade() -> None:
    with op.batch_alter_table("claim_feed") as batch:
        batch.drop_constraint("ck_claim_feed_activity", type_="check")
    postgresql = op.get_bind().dialect.name == "postgresql"
    start, end = (
        ("to_char(period_start, 'YYYY-MM-DD')", "to_char(period_end, 'YYYY-MM-DD')")
        if postgresql
        else ("period_start", "period_end")  # SQLite keeps dates as ISO text
    )
    columns = "log_index, position, kind, registry_code, ref, key, scenario, starts, ends, trip_id"
    op.execute(
        f"INSERT INTO claim_feed ({columns}) SELECT log_index, position, 'issuance', registry_code,"  # noqa: S608
        f" block_id, fingerprint, NULL, {start}, {end}, NULL FROM issuance_claim WHERE {PUBLISHED}"
    )
    op.drop_index("ux_issuance_claim_feed", table_name="issuance_claim")
    with op.batch_alter_table("issuance_claim") as batch:
        batch.drop_column("position")
        batch.drop_column("log_index")
