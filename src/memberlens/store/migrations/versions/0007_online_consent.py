"""Consent on the request path: the published effective consent, the member keys it
is looked up by, and the consent statements accepted by the API since.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "online_consent",
        sa.Column("member_id", sa.String(64), primary_key=True),
        sa.Column("purpose", sa.String(32), primary_key=True),
        sa.Column("channel", sa.String(16), primary_key=True),
        sa.Column("allowed", sa.Boolean(), nullable=False),
        sa.Column("code", sa.String(32), nullable=False),
        sa.Column("withdrawn_by", sa.Text(), nullable=True),
        sa.Column("as_of", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "online_member_keys",
        sa.Column("source", sa.String(64), primary_key=True),
        sa.Column("source_member_key", sa.String(200), primary_key=True),
        sa.Column("member_id", sa.String(64), nullable=False, index=True),
    )
    op.create_table(
        "consent_buffer",
        sa.Column("consent_id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("ingest_id", sa.Integer(), nullable=False, index=True),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("source_member_key", sa.String(200), nullable=False),
        sa.Column("purpose", sa.String(32), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("granted", sa.Boolean(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.Column("policy_version", sa.String(64), nullable=True),
        sa.Column("received_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_consent_buffer_member", "consent_buffer", ["source", "source_member_key"])


def downgrade() -> None:
    op.drop_index("ix_consent_buffer_member", "consent_buffer")
    op.drop_table("consent_buffer")
    op.drop_table("online_member_keys")
    op.drop_table("online_consent")
