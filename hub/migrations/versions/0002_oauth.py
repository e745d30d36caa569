"""oauth clients, tokens, single-use ids, signed requests, rate windows; platform key grace

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

from hub.models import JSONType

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("platform") as batch:
        batch.add_column(sa.Column("previous_jwks", JSONType, nullable=True))
        batch.add_column(sa.Column("previous_jwks_until", TS, nullable=True))
    op.create_table(
        "oauth_client",
        sa.Column("client_id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("platform_code", sa.String(16), sa.ForeignKey("platform.code"), nullable=True),
        sa.Column("region", sa.String(16), nullable=True),
        sa.Column("scopes", JSONType, nullable=False),
        sa.Column("jwks", JSONType, nullable=True),
        sa.Column("secret_hash", sa.String(200), nullable=True),
        sa.Column("status", sa.String(16), nullable=False, server_default="active"),
        sa.Column("created_at", TS, nullable=False),
        sa.CheckConstraint("kind IN ('platform', 'operator', 'committee')", name="client_kind"),
        sa.CheckConstraint("status IN ('active', 'suspended')", name="client_status"),
        sa.CheckConstraint("(kind = 'platform') = (platform_code IS NOT NULL)", name="client_platform"),
    )
    op.create_table(
        "access_token",
        sa.Column("jti", sa.String(64), primary_key=True),
        sa.Column("client_id", sa.String(64), sa.ForeignKey("oauth_client.client_id"), nullable=False),
        sa.Column("scope", sa.Text, nullable=False),
        sa.Column("issued_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        sa.Column("revoked_at", TS, nullable=True),
    )
    op.create_index("ix_access_token_client_id", "access_token", ["client_id"])
    op.create_table(
        "seen_nonce",
        sa.Column("purpose", sa.String(16), primary_key=True),
        sa.Column("issuer", sa.String(64), primary_key=True),
        sa.Column("jti", sa.String(128), primary_key=True),
        sa.Column("expires_at", TS, nullable=False),
    )
    op.create_index("ix_seen_nonce_expires_at", "seen_nonce", ["expires_at"])
    op.create_table(
        "signed_request",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("client_id", sa.String(64), nullable=False),
        sa.Column("platform_code", sa.String(16), nullable=True),
        sa.Column("method", sa.String(8), nullable=False),
        sa.Column("path", sa.String(500), nullable=False),
        sa.Column("content_type", sa.String(200), nullable=True),
        sa.Column("body", sa.LargeBinary, nullable=False),
        sa.Column("jws", sa.Text, nullable=False),
        sa.Column("kid", sa.String(128), nullable=False),
        sa.Column("jti", sa.String(128), nullable=False),
        sa.Column("issued_at", TS, nullable=False),
        sa.Column("received_at", TS, nullable=False),
    )
    op.create_index("ix_signed_request_client_id", "signed_request", ["client_id"])
    op.create_index("ix_signed_request_platform_code", "signed_request", ["platform_code"])
    op.create_table(
        "rate_window",
        sa.Column("client_id", sa.String(64), primary_key=True),
        sa.Column("window_start", sa.BigInteger, primary_key=True),
        sa.Column("count", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    for table in ["rate_window", "signed_request", "seen_nonce", "access_token", "oauth_client"]:
        op.drop_table(table)
    with op.batch_alter_table("platform") as batch:
        batch.drop_column("previous_jwks_until")
        batch.drop_column("previous_jwks")
