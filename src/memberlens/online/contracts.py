"""What crosses the online boundary."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any


@dataclass(frozen=True)
class MemberSummary:
    """A member's buying at a glance, as published by the last refresh."""

    member_id: str
    orders: int
    revenue: Decimal
    first_order_at: datetime | None
    last_order_at: datetime | None
    last_event_at: datetime | None
    as_of: datetime

    def to_json(self) -> dict[str, Any]:
        def stamp(v: datetime | None) -> str | None:
            return v.isoformat() + "Z" if v else None

        return {
            "member_id": self.member_id,
            "orders": self.orders,
            "revenue": str(self.revenue),
            "first_order_at": stamp(self.first_order_at),
            "last_order_at": stamp(self.last_order_at),
            "last_event_at": stamp(self.last_event_at),
            "as_of": stamp(self.as_of),
        }
