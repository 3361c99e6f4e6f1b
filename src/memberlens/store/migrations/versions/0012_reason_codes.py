"""Recommendation reasons as codes: ``online_recommendations.reason`` holds a reason's
code and parameters as JSON (``{"code":"because_you_liked","params":{"item":"Dune"}}``),
rendered in the reader's language when served, so it may be longer than the 300
characters an English sentence needed. Rows published before stay as written (English)
until the next refresh replaces them; they are served as they are.

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("online_recommendations") as batch:
        batch.alter_column(
            "reason", existing_type=sa.String(300), type_=sa.Text(), existing_nullable=False
        )


def downgrade() -> None:
    with op.batch_alter_table("online_recommendations") as batch:
        batch.alter_column(
            "reason", existing_type=sa.Text(), type_=sa.String(300), existing_nullable=False
        )
