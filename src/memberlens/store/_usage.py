"""Rule usage in the state DB: which saved definition reads which catalogue name.

A tag, segment, campaign or journey that evaluates a rule records the names it read
(``tag.high_value``, ``spend_365d``, ...) with the time; ``memberlens tags unused``
reads this table to find tags nothing has used lately.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, String
from sqlalchemy.orm import Mapped, mapped_column

from memberlens.store._state import Base


class RuleUsageRow(Base):
    __tablename__ = "rule_usage"
    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    used_by_kind: Mapped[str] = mapped_column(String(32), primary_key=True)  # tag | segment | ...
    used_by: Mapped[str] = mapped_column(String(200), primary_key=True)
    last_used_at: Mapped[datetime] = mapped_column(DateTime)
