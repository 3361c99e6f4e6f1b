"""Online tables: what the request path reads, published at the end of each refresh.

They live in the state DB so that applications never wait on the warehouse or on a
running refresh (DESIGN). Each refresh replaces a table's rows in one transaction.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, Float, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from memberlens.store._state import Base


class MemberSummaryRow(Base):
    """One member's buying at a glance, as of the last refresh."""

    __tablename__ = "online_member_summary"
    member_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    orders: Mapped[int] = mapped_column(Integer)
    # Money as a decimal string: exact on SQLite and PostgreSQL alike.
    revenue: Mapped[str] = mapped_column(String(32))
    first_order_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    last_order_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    last_event_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    as_of: Mapped[datetime] = mapped_column(DateTime)


class RecommendationRow(Base):
    """One place of a precomputed list (a member's, a fallback's or an item's)."""

    __tablename__ = "online_recommendations"
    scenario: Mapped[str] = mapped_column(String(64), primary_key=True)
    list_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    rank: Mapped[int] = mapped_column(Integer, primary_key=True)
    product_id: Mapped[str] = mapped_column(String(128))
    score: Mapped[float] = mapped_column(Float)
    # the reason's code and parameters as JSON (recommend's ``reason``), rendered per reader
    reason: Mapped[str] = mapped_column(Text)
    algorithm: Mapped[str] = mapped_column(String(64))
    as_of: Mapped[datetime] = mapped_column(DateTime)


class RecommendationFallbackRow(Base):
    """The non-personalised list that serves a member (their city's or region's)."""

    __tablename__ = "online_recommendation_fallback"
    member_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    list_id: Mapped[str] = mapped_column(String(200))


class ProductRow(Base):
    """What the request-time rules need of a product; stock changes land at once."""

    __tablename__ = "online_products"
    product_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    category: Mapped[str] = mapped_column(String(200))
    price: Mapped[float | None] = mapped_column(Float, nullable=True)
    in_stock: Mapped[bool] = mapped_column(Boolean)
    updated_at: Mapped[datetime] = mapped_column(DateTime)


class RecentPurchaseRow(Base):
    """A purchase the API accepted since the last publication (the "just bought" rule)."""

    __tablename__ = "online_recent_purchases"
    recent_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(64))
    source_member_key: Mapped[str] = mapped_column(String(128))
    product_id: Mapped[str] = mapped_column(String(128))
    at: Mapped[datetime] = mapped_column(DateTime)

    __table_args__ = (Index("ix_recent_purchases_member", "source", "source_member_key"),)
