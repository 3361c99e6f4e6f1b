"""What crosses the measure boundary."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date
from decimal import Decimal
from typing import Any


@dataclass(frozen=True)
class Overview:
    """The console's first page: the member base and its buying over a period.

    ``as_of`` is the last refresh's as-of (the day every console page reads), or the
    last day with data before the first refresh — not today, so a historical data set
    still shows a meaningful period.
    """

    as_of: date | None
    period_days: int
    members: int
    active_members: int  # with an order or an event in the period
    orders: int
    revenue: Decimal
    buyers: int
    repurchase_rate: float  # share of buyers with two or more orders in the period
    trend: list[tuple[str, int, Decimal]]  # (month, orders, revenue) over the last year
    channels: list[tuple[str, int]]  # orders per channel in the period

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["as_of"] = self.as_of.isoformat() if self.as_of else None
        data["revenue"] = str(self.revenue)
        data["trend"] = [[m, n, str(r)] for m, n, r in self.trend]
        data["channels"] = [list(c) for c in self.channels]
        return data
