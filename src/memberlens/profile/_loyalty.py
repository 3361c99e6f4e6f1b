"""The tiers & points step: ledger movements, expiry, ``member_points``, ``member_tiers``.

Order inside the step matters: points first (earnings, reversals, actions, then
expiry), so that a ``points_365d`` ladder reads the points of the same cut-off. The
whole step is one warehouse transaction: a failure leaves the ledger and both
snapshots as they were.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from memberlens.core.clock import utc_now
from memberlens.core.settings import PointsSettings, TiersSettings
from memberlens.profile._expiry import expire_and_find_expiring, points_snapshot
from memberlens.profile._points import (
    action_earnings,
    append,
    check_actions,
    order_earnings,
    order_reversals,
    record_adjustments,
)
from memberlens.profile._tiers import write_tiers
from memberlens.profile.contracts import LoyaltyRun, PointsAdjustment
from memberlens.store import Warehouse


def refresh_loyalty(
    warehouse: Warehouse, *, cutoff: datetime, tiers: TiersSettings, points: PointsSettings
) -> LoyaltyRun:
    """Credit, reverse and expire points before ``cutoff``; write both snapshots.

    ``cutoff`` is a naive-UTC or aware instant; the snapshot date is its date.

    Examples
    --------
    >>> from memberlens.store import Warehouse
    >>> import tempfile, pathlib
    >>> with Warehouse.open_duckdb(pathlib.Path(tempfile.mkdtemp()) / "w.duckdb") as w:
    ...     w.ensure_schema()
    ...     run = refresh_loyalty(w, cutoff=datetime(2025, 1, 1), tiers=TiersSettings(),
    ...                           points=PointsSettings())
    >>> (run.snapshot_date.isoformat(), run.members)
    ('2025-01-01', 0)
    """
    check_actions(points)
    moment = cutoff.astimezone(UTC).replace(tzinfo=None) if cutoff.tzinfo else cutoff
    snapshot = moment.date()
    now = utc_now().replace(tzinfo=None)
    credited: dict[str, int] = {}
    with warehouse.transaction():
        credited["earn_order"] = append(warehouse, order_earnings(warehouse, moment, points), now)
        credited["reverse_order"] = append(warehouse, order_reversals(warehouse, moment), now)
        for reason, rows in action_earnings(warehouse, moment, points).items():
            credited[reason] = append(warehouse, rows, now)
        credited["expire"], soon = expire_and_find_expiring(
            warehouse, moment, window_days=points.expiring_signal_days, now=now
        )
        points_snapshot(warehouse, moment, snapshot, soon)
        counts, changed = (
            write_tiers(warehouse, moment, snapshot, tiers) if tiers.levels else ({}, 0)
        )
    return LoyaltyRun(
        snapshot_date=snapshot,
        cutoff=moment,
        credited=credited,
        members=sum(counts.values()),
        tiers=counts,
        changed=changed,
    )


def record_points_adjustments(
    warehouse: Warehouse, adjustments: Sequence[PointsAdjustment], points: PointsSettings
) -> int:
    """Append manual adjustments to ``points_ledger`` once each; return the new rows.

    Positive adjustments expire by the configured rule unless they name an instant.
    """
    with warehouse.transaction():
        return record_adjustments(
            warehouse, adjustments, points, now=utc_now().replace(tzinfo=None)
        )
