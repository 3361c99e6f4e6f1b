"""Identity changes in the state DB: the merge/unmerge notifications later parts read.

Identity resolution rewrites ``member_map`` in the warehouse; what it changed is also
written here, one row per (survivor, absorbed) pair, so that operational parts that live
in the state DB (experiment assignments, the outbox) can follow a merge in their own
transaction by reading the rows after the last ``seq`` they handled.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from memberlens.store._state import Base


class IdentityChangeRow(Base):
    """One member absorbed into another (merge) or split off again (unmerge)."""

    __tablename__ = "identity_changes"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))  # merge | unmerge
    survivor: Mapped[str] = mapped_column(String(64), index=True)
    absorbed: Mapped[str] = mapped_column(String(64), index=True)
    at: Mapped[datetime] = mapped_column(DateTime)
    run_id: Mapped[str] = mapped_column(String(64), index=True)
