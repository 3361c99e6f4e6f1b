"""Rule usage: which saved definition (tag, segment, campaign, ...) reads which name.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rule_usage",
        sa.Column("name", sa.String(200), primary_key=True),
        sa.Column("used_by_kind", sa.String(32), primary_key=True),
        sa.Column("used_by", sa.String(200), primary_key=True),
        sa.Column("last_used_at", sa.DateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("rule_usage")
