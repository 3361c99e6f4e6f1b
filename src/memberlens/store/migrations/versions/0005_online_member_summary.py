"""The first online table (member summaries) published by refresh.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "online_member_summary",
        sa.Column("member_id", sa.String(64), primary_key=True),
        sa.Column("orders", sa.Integer(), nullable=False),
        sa.Column("revenue", sa.String(32), nullable=False),
        sa.Column("first_order_at", sa.DateTime(), nullable=True),
        sa.Column("last_order_at", sa.DateTime(), nullable=True),
        sa.Column("last_event_at", sa.DateTime(), nullable=True),
        sa.Column("as_of", sa.DateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("online_member_summary")
