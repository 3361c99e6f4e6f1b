"""Identity changes (merge / unmerge notifications) written by identity resolution.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "identity_changes",
        sa.Column("seq", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("survivor", sa.String(64), nullable=False),
        sa.Column("absorbed", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("run_id", sa.String(64), nullable=False),
    )
    op.create_index("ix_identity_changes_survivor", "identity_changes", ["survivor"])
    op.create_index("ix_identity_changes_absorbed", "identity_changes", ["absorbed"])
    op.create_index("ix_identity_changes_run_id", "identity_changes", ["run_id"])


def downgrade() -> None:
    op.drop_table("identity_changes")
