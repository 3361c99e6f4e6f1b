"""Saved segments in the state DB: a name, a rule and who owns it (docs/segments.md).

Membership is derived data and lives in the warehouse (``segment_members`` per
snapshot, ``segment_changes`` for who entered and left); the definition lives here,
beside the other things people edit.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from memberlens.store._state import Base


class SegmentRow(Base):
    __tablename__ = "segments"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    rule: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text, default="")
    owner: Mapped[str] = mapped_column(String(200), default="")
    created_by: Mapped[str] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
