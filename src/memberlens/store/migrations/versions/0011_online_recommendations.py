"""Recommendations on the request path: the precomputed lists, the fallback list of
each member, the products' facts the request-time rules read, and the purchases the
API accepted since the last publication.

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "online_recommendations",
        sa.Column("scenario", sa.String(64), primary_key=True),
        sa.Column("list_id", sa.String(200), primary_key=True),
        sa.Column("rank", sa.Integer(), primary_key=True),
        sa.Column("product_id", sa.String(128), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("reason", sa.String(300), nullable=False),
        sa.Column("algorithm", sa.String(64), nullable=False),
        sa.Column("as_of", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "online_recommendation_fallback",
        sa.Column("member_id", sa.String(64), primary_key=True),
        sa.Column("list_id", sa.String(200), nullable=False),
    )
    op.create_table(
        "online_products",
        sa.Column("product_id", sa.String(128), primary_key=True),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("category", sa.String(200), nullable=False),
        sa.Column("price", sa.Float(), nullable=True),
        sa.Column("in_stock", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "online_recent_purchases",
        sa.Column("recent_id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("source_member_key", sa.String(128), nullable=False),
        sa.Column("product_id", sa.String(128), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
    )
    op.create_index(
        "ix_recent_purchases_member",
        "online_recent_purchases",
        ["source", "source_member_key"],
    )


def downgrade() -> None:
    op.drop_index("ix_recent_purchases_member", table_name="online_recent_purchases")
    op.drop_table("online_recent_purchases")
    op.drop_table("online_products")
    op.drop_table("online_recommendation_fallback")
    op.drop_table("online_recommendations")
