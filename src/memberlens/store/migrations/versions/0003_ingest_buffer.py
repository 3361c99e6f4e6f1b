"""The ingest buffer: rows accepted by the API (events, members, orders, products),
waiting for the job runner's flush into the warehouse.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ingest_buffer",
        sa.Column("buffer_id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("dedupe_key", sa.String(160), nullable=True, unique=True),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("token_id", sa.String(32), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("encrypted", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False, index=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("flushed_at", sa.DateTime(), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("ingest_buffer")
