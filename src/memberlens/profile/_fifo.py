"""Points lots, consumed first in, first out: the pure arithmetic of the points ledger.

Every positive movement is a *lot* that may carry an expiry instant. A debit (a
redemption, a negative manual adjustment, a reversal) consumes the oldest live lots
first — by the time they were earned, then by movement id, so the order is the same
on every run. A reversal names its own lot and takes from it first. A debit larger
than the live points leaves a *deficit*, which the next credits pay off before they
form a lot of their own; so a balance may go negative through a debit, never through
expiry: an expiry removes what is left of its lot at its instant, nothing more.

The ledger records expiries as movements (reason ``expire``, ``lot_id`` = the lot).
:func:`replay` replays a member's movements in time order and returns the expiries
that are due but not recorded yet, with their amounts, so that afterwards the sum of
the member's movements equals the balance (the ledger's invariant).
"""

from __future__ import annotations

import calendar
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal

from memberlens.profile.contracts import PointsMovement

ExpireAt = Literal["day", "month_end", "year_end"]
EXPIRE = "expire"
SEP = "\x1f"  # as in core.ids: ("a", "bc") and ("ab", "c") hash apart
# At one instant: credits first, then debits, then expiries (a member spending at the
# last moment spends points that are still there).
_CREDIT, _DEBIT, _EXPIRY = 0, 1, 2


def movement_id(reason: str, source: str, source_ref: str) -> str:
    """The stable id of a movement: a hash of its reason and the row it came from.

    The same text is hashed in the engine (``hexdigest('sha256')``), so the id is the
    same whichever side computes it.

    Examples
    --------
    >>> movement_id("earn_order", "pos", "o1")
    'pm_9d85c13b0023e8d37be95becd6339591'
    """
    text = SEP.join((reason, source, source_ref))
    return "pm_" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def expiry(earned_at: datetime, *, months: int, at: ExpireAt) -> datetime | None:
    """When points earned at ``earned_at`` expire: ``months`` later, rounded up to the
    start of the next day, month or year (``at``); ``None`` when ``months`` is 0.

    Examples
    --------
    >>> expiry(datetime(2024, 3, 15, 10, 30), months=12, at="year_end")
    datetime.datetime(2026, 1, 1, 0, 0)
    >>> expiry(datetime(2024, 1, 31, 9), months=1, at="day")
    datetime.datetime(2024, 3, 1, 0, 0)
    """
    if months == 0:
        return None
    total = earned_at.month - 1 + months
    year, month = earned_at.year + total // 12, total % 12 + 1
    day = min(earned_at.day, calendar.monthrange(year, month)[1])
    if at == "year_end":
        return datetime(year + 1, 1, 1)
    if at == "month_end":
        return datetime(year + (month == 12), month % 12 + 1, 1)
    return datetime(year, month, day) + timedelta(days=1)


@dataclass
class _Lot:
    movement: PointsMovement
    remaining: int
    closed: bool = False


@dataclass
class Replay:
    """A member's points at the end of a replay."""

    lots: dict[str, int] = field(default_factory=dict)  # live lot id -> points left
    deficit: int = 0
    due: list[tuple[PointsMovement, int]] = field(default_factory=list)  # (lot, amount)

    @property
    def balance(self) -> int:
        return sum(self.lots.values()) - self.deficit


def replay(movements: Iterable[PointsMovement], *, until: datetime) -> Replay:
    """Replay one member's movements before ``until`` (FIFO, see the module docstring).

    Lots whose expiry instant lies before ``until`` and which have no ``expire``
    movement yet are returned in ``due`` with the points left at their instant
    (possibly 0: the lot was spent); the caller records them.

    Examples
    --------
    >>> t = datetime(2024, 1, 1)
    >>> earn = PointsMovement("a", "m", 100, "earn_order", t, t + timedelta(days=30))
    >>> spend = PointsMovement("b", "m", -30, "redeem", t + timedelta(days=1), None)
    >>> r = replay([earn, spend], until=t + timedelta(days=60))
    >>> (r.balance, [(lot.movement_id, n) for lot, n in r.due])
    (0, [('a', 70)])
    """
    mine = [m for m in movements if m.occurred_at < until]
    recorded = {m.lot_id for m in mine if m.reason == EXPIRE}
    timeline: list[tuple[datetime, int, str, PointsMovement, bool]] = []
    for m in mine:
        rank = _EXPIRY if m.reason == EXPIRE else _CREDIT if m.points > 0 else _DEBIT
        timeline.append((m.occurred_at, rank, m.movement_id, m, False))
        if m.points > 0 and m.expires_at and m.expires_at < until and m.movement_id not in recorded:
            timeline.append((m.expires_at, _EXPIRY, m.movement_id, m, True))
    timeline.sort(key=lambda e: e[:3])
    state = _State()
    for _, rank, _, m, synthetic in timeline:
        if synthetic:
            state.result.due.append((m, state.close(m.movement_id)))
        elif rank == _EXPIRY:
            state.close(m.lot_id or "")
        elif rank == _CREDIT:
            state.credit(m)
        else:
            state.debit(-m.points, m.lot_id)
    state.result.lots = {k: lot.remaining for k, lot in state.lots.items() if not lot.closed}
    return state.result


class _State:
    def __init__(self) -> None:
        self.lots: dict[str, _Lot] = {}  # insertion order = FIFO order
        self.result = Replay()

    def credit(self, m: PointsMovement) -> None:
        paid = min(self.result.deficit, m.points)
        self.result.deficit -= paid
        self.lots[m.movement_id] = _Lot(m, m.points - paid)

    def debit(self, need: int, lot_id: str | None) -> None:
        own = self.lots.get(lot_id or "")
        order = ([own] if own else []) + [lot for lot in self.lots.values() if lot is not own]
        for lot in order:
            if need == 0:
                break
            if lot.closed:
                continue
            take = min(lot.remaining, need)
            lot.remaining -= take
            need -= take
        self.result.deficit += need

    def close(self, lot_id: str) -> int:
        """Expire what is left of a lot; return it."""
        lot = self.lots.get(lot_id)
        if lot is None or lot.closed:
            return 0
        left, lot.remaining, lot.closed = lot.remaining, 0, True
        return left


def utc_naive(moment: datetime) -> datetime:
    """The warehouse keeps naive UTC timestamps."""
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment
