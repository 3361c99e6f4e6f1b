"""Online tables: what the request path reads, published at the end of each refresh.

They live in the state DB so that applications never wait on the warehouse or on a
running refresh (DESIGN). Each refresh replaces a table's rows in one transaction.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Integer, String
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
