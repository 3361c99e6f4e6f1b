"""The profile's signals: ``tier_changed`` and ``points_expiring`` (docs/tiers-and-points.md).

- ``tier_changed``: a member whose tier in the snapshot of the cut-off differs from
  their tier in the previous snapshot; payload ``{"old_tier", "new_tier"}``. A member
  seen for the first time starts at a tier, which is not a change. Key: snapshot date
  and both tiers, so a re-run of the same snapshot adds nothing.
- ``points_expiring``: points that expire within ``[points] expiring_signal_days``
  after the cut-off, one signal per member and expiry instant; payload
  ``{"points", "expires_at"}`` (points are usable *before* ``expires_at``, UTC). Key:
  the expiry instant, so the daily refreshes of the window signal it once.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from memberlens import signals
from memberlens.core.settings import PointsSettings
from memberlens.profile._expiry import expiring_points
from memberlens.signals import Detector, Signal, SignalName
from memberlens.store import Warehouse


def _tier_changes(warehouse: Warehouse, cutoff: datetime) -> Iterator[Signal]:
    snapshot = cutoff.date()
    t = warehouse.table("member_tiers")
    now = t.filter(t.snapshot_date == snapshot)
    earlier = t.filter(t.snapshot_date < snapshot)
    last = warehouse.to_pyarrow(earlier.snapshot_date.max().name("d").as_table())
    when = last.column("d")[0].as_py()
    if when is None:
        return
    before = earlier.filter(earlier.snapshot_date == when).select("member_id", old=earlier.tier)
    j = now.join(before, "member_id")
    moved = j.filter(~j.tier.identical_to(j.old))
    rows = warehouse.to_pyarrow(moved.select("member_id", "tier", "old").order_by("member_id"))
    for r in rows.to_pylist():
        yield Signal(
            member_id=r["member_id"],
            signal=SignalName.TIER_CHANGED,
            occurred_at=cutoff,
            key=f"{snapshot.isoformat()}|{r['old']}|{r['tier']}",
            payload={"old_tier": r["old"], "new_tier": r["tier"]},
        )


def signal_detectors(points: PointsSettings) -> tuple[signals.Detector, ...]:
    """The profile's detectors, for the pipeline's signals step."""

    def expiring(warehouse: Warehouse, cutoff: datetime) -> Iterator[Signal]:
        for e in expiring_points(warehouse, cutoff, window_days=points.expiring_signal_days):
            yield Signal(
                member_id=e.member_id,
                signal=SignalName.POINTS_EXPIRING,
                occurred_at=cutoff,
                key=e.expires_at.isoformat(),
                payload={"points": e.points, "expires_at": e.expires_at.isoformat() + "Z"},
            )

    return (
        Detector(SignalName.TIER_CHANGED, _tier_changes, "tier differs from the last snapshot"),
        Detector(SignalName.POINTS_EXPIRING, expiring, "points expire within the window"),
    )
