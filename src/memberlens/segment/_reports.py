"""What people read about segments: the RFM grid, lifecycle flows, a segment's members."""

from __future__ import annotations

from datetime import date
from typing import Any

from memberlens.core.settings import SegmentsSettings
from memberlens.segment._compute import (
    CHANGES_TABLE,
    LIFECYCLE_TABLE,
    MEMBERS_TABLE,
    RUNS_TABLE,
)
from memberlens.segment._rfm import RFM_SEGMENTS, RFM_TABLE
from memberlens.segment._saved import get_segment
from memberlens.segment.contracts import NoSnapshot
from memberlens.store import StateStore, Warehouse


def _latest(warehouse: Warehouse, table: str, before: date | None = None) -> date | None:
    if not warehouse.has_table(table):
        return None
    if before is None:
        return warehouse.scalar(f"SELECT max(snapshot_date) FROM {table}")  # type: ignore[no-any-return]
    return warehouse.scalar(  # type: ignore[no-any-return]
        f"SELECT max(snapshot_date) FROM {table} WHERE snapshot_date < ?", [before]
    )


def _need(day: date | None, what: str) -> date:
    if day is None:
        raise NoSnapshot(f"no {what} yet: run `memberlens refresh` first")
    return day


def rfm_summary(warehouse: Warehouse) -> dict[str, Any]:
    """Members per named RFM segment, and the 5×5 grid of R by FM counts."""
    snapshot = _need(_latest(warehouse, RFM_TABLE), "RFM scores")
    counts = dict(
        warehouse.fetch_all(
            f"SELECT rfm_segment, count(*) FROM {RFM_TABLE} WHERE snapshot_date = ? GROUP BY 1",
            [snapshot],
        )
    )
    total = sum(counts.values())
    grid = warehouse.fetch_all(
        f"SELECT r_score, (f_score + m_score + 1) // 2 AS fm, count(*) FROM {RFM_TABLE} "
        "WHERE snapshot_date = ? GROUP BY 1, 2 ORDER BY 1, 2",
        [snapshot],
    )
    return {
        "snapshot_date": snapshot.isoformat(),
        "members": total,
        "segments": [
            {
                **s.to_json(),
                "members": int(counts.get(s.name, 0)),
                "share": counts.get(s.name, 0) / total if total else 0.0,
            }
            for s in RFM_SEGMENTS
        ],
        "grid": [{"r": int(r), "fm": int(fm), "members": int(n)} for r, fm, n in grid],
    }


def lifecycle_summary(warehouse: Warehouse, settings: SegmentsSettings) -> dict[str, Any]:
    """Members per stage in the newest snapshot, and the flow from the snapshot before.

    A flow row ``from: null`` counts members new to the snapshot; ``to: null`` those
    no longer in any stage.
    """
    snapshot = _need(_latest(warehouse, LIFECYCLE_TABLE), "lifecycle stages")
    previous = _latest(warehouse, LIFECYCLE_TABLE, before=snapshot)
    counts = dict(
        warehouse.fetch_all(
            f"SELECT stage, count(*) FROM {LIFECYCLE_TABLE} WHERE snapshot_date = ? GROUP BY 1",
            [snapshot],
        )
    )
    flow: list[dict[str, Any]] = []
    if previous is not None:
        rows = warehouse.fetch_all(
            f"SELECT b.stage, a.stage, count(*) FROM "
            f"(SELECT member_id, stage FROM {LIFECYCLE_TABLE} WHERE snapshot_date = ?) a "
            f"FULL JOIN (SELECT member_id, stage FROM {LIFECYCLE_TABLE} WHERE snapshot_date = ?) b "
            "USING (member_id) GROUP BY 1, 2 ORDER BY 1 NULLS FIRST, 2 NULLS LAST",
            [snapshot, previous],
        )
        flow = [{"from": f, "to": t, "members": int(n)} for f, t, n in rows]
    stages = [*settings.lifecycle, *sorted(set(counts) - set(settings.lifecycle))]
    return {
        "snapshot_date": snapshot.isoformat(),
        "previous": previous.isoformat() if previous else None,
        "stages": [
            {
                "stage": stage,
                "members": int(counts.get(stage, 0)),
                "rule": settings.lifecycle.get(stage, "(no longer configured)"),
            }
            for stage in stages
        ],
        "flow": flow,
    }


def segment_membership(
    warehouse: Warehouse, state: StateStore, name: str, *, changes: bool, limit: int
) -> dict[str, Any]:
    """A saved segment's members in its newest snapshot, or its entries and exits."""
    get_segment(state, name)
    if not warehouse.has_table(RUNS_TABLE):
        raise NoSnapshot(f"segment {name!r} has not been computed yet: run `memberlens refresh`")
    snapshot = warehouse.scalar(
        f"SELECT max(snapshot_date) FROM {RUNS_TABLE} WHERE segment = ?", [name]
    )
    if snapshot is None:
        raise NoSnapshot(f"segment {name!r} has not been computed yet: run `memberlens refresh`")
    if changes:
        rows = warehouse.fetch_all(
            f"SELECT snapshot_date, change, member_id FROM {CHANGES_TABLE} WHERE segment = ? "
            "ORDER BY snapshot_date DESC, change, member_id LIMIT ?",
            [name, limit],
        )
        return {
            "segment": name,
            "changes": [
                {"snapshot_date": d.isoformat(), "change": c, "member_id": m} for d, c, m in rows
            ],
        }
    total = warehouse.scalar(
        f"SELECT members FROM {RUNS_TABLE} WHERE segment = ? AND snapshot_date = ?",
        [name, snapshot],
    )
    ids = warehouse.fetch_all(
        f"SELECT member_id FROM {MEMBERS_TABLE} WHERE segment = ? AND snapshot_date = ? "
        "ORDER BY member_id LIMIT ?",
        [name, snapshot, limit],
    )
    return {
        "segment": name,
        "snapshot_date": snapshot.isoformat(),
        "members": int(total),
        "member_ids": [m for (m,) in ids],
    }
