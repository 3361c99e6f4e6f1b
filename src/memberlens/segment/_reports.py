"""What people read about segments: the RFM grid, lifecycle flows, a segment's members.

Names stay the codes rules use (``Champions``, ``at_risk``); beside each, ``label``
(and an RFM segment's ``description``) are in the ``locale`` asked for, English by
default, from the catalogue of :mod:`memberlens.core.i18n`.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from memberlens.core import i18n
from memberlens.core.settings import SegmentsSettings
from memberlens.segment._clusters import PROFILES_TABLE, PROJECTION_TABLE, name_cluster
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


def rfm_summary(warehouse: Warehouse, *, locale: str = "en") -> dict[str, Any]:
    """Members per named RFM segment, and the 5×5 grid of R by FM counts; each segment's
    ``label`` and ``description`` in ``locale``."""
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
                "label": i18n.label("rfm_segment", s.name, locale),
                "description": i18n.label("rfm_description", s.name, locale),
                "members": int(counts.get(s.name, 0)),
                "share": counts.get(s.name, 0) / total if total else 0.0,
            }
            for s in RFM_SEGMENTS
        ],
        "grid": [{"r": int(r), "fm": int(fm), "members": int(n)} for r, fm, n in grid],
    }


def lifecycle_summary(
    warehouse: Warehouse, settings: SegmentsSettings, *, locale: str = "en"
) -> dict[str, Any]:
    """Members per stage in the newest snapshot, and the flow from the snapshot before.

    A flow row ``from: null`` counts members new to the snapshot; ``to: null`` those
    no longer in any stage. Each stage's ``label`` is in ``locale`` (a workspace's own
    stage names are their own labels).
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
                "label": i18n.label("lifecycle_stage", stage, locale),
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


COMPARED = (
    "recency_days",
    "frequency",
    "monetary",
    "avg_order_value",
    "coupon_share",
    "tenure_days",
)


def cluster_summary(warehouse: Warehouse, *, locale: str = "en") -> dict[str, Any]:
    """The newest clustering: k, silhouettes, profiles and the 2-D sample to draw; each
    cluster's ``label`` is its name in ``locale``."""
    snapshot = _latest(warehouse, PROFILES_TABLE)
    if snapshot is None:
        raise NoSnapshot(
            "no clusters yet: run `memberlens refresh` (clustering needs more buyers than "
            "[segments] cluster_k_min, and features that differ between them)"
        )
    stored = json.loads(
        warehouse.scalar(
            f"SELECT profile FROM {PROFILES_TABLE} WHERE snapshot_date = ?", [snapshot]
        )
    )
    points = warehouse.fetch_all(
        f"SELECT cluster_id, x, y FROM {PROJECTION_TABLE} WHERE snapshot_date = ? "
        "ORDER BY member_id",
        [snapshot],
    )
    return {
        "snapshot_date": snapshot.isoformat(),
        "k": stored["k"],
        "silhouettes": stored["silhouettes"],
        "features": stored["scaling"]["features"],
        "clusters": [
            {
                **{key: c[key] for key in c if key != "centroid"},
                "label": name_cluster(c["zscores"], c.get("top_category"), locale),
                "distinctive": sorted(c["zscores"].items(), key=lambda kv: -abs(kv[1]))[:3],
            }
            for c in stored["clusters"]
        ],
        "points": [{"cluster_id": c, "x": round(x, 4), "y": round(y, 4)} for c, x, y in points],
    }


def compare_segments(warehouse: Warehouse, state: StateStore, a: str, b: str) -> dict[str, Any]:
    """Two saved segments side by side in their newest common snapshot."""
    for name in (a, b):
        get_segment(state, name)
    if not warehouse.has_table(RUNS_TABLE):
        raise NoSnapshot("no segment has been computed yet: run `memberlens refresh`")
    snapshot = warehouse.scalar(
        f"SELECT max(snapshot_date) FROM {RUNS_TABLE} WHERE segment = ? AND snapshot_date IN "
        f"(SELECT snapshot_date FROM {RUNS_TABLE} WHERE segment = ?)",
        [a, b],
    )
    if snapshot is None:
        raise NoSnapshot(f"{a} and {b} have no snapshot in common yet: run `memberlens refresh`")
    means = ", ".join(f"avg(f.{c}) AS {c}" for c in COMPARED)
    sides = []
    for name in (a, b):
        row = warehouse.execute(
            f"SELECT count(*) AS members, {means} FROM {MEMBERS_TABLE} s JOIN member_features f "
            "ON f.member_id = s.member_id AND f.snapshot_date = s.snapshot_date "
            "WHERE s.segment = ? AND s.snapshot_date = ?",
            [name, snapshot],
        ).fetchone()
        mix = warehouse.fetch_all(
            f"SELECT r.rfm_segment, count(*) FROM {MEMBERS_TABLE} s JOIN {RFM_TABLE} r "
            "ON r.member_id = s.member_id AND r.snapshot_date = s.snapshot_date "
            "WHERE s.segment = ? AND s.snapshot_date = ? GROUP BY 1 ORDER BY 2 DESC, 1",
            [name, snapshot],
        )
        assert row is not None
        sides.append(
            {
                "segment": name,
                "members": int(row[0]),
                "means": {
                    c: None if v is None else round(float(v), 4)
                    for c, v in zip(COMPARED, row[1:], strict=True)
                },
                "rfm": {str(k): int(n) for k, n in mix},
            }
        )
    both = warehouse.scalar(
        f"SELECT count(*) FROM (SELECT member_id FROM {MEMBERS_TABLE} WHERE segment = ? "
        f"AND snapshot_date = ? INTERSECT SELECT member_id FROM {MEMBERS_TABLE} "
        "WHERE segment = ? AND snapshot_date = ?)",
        [a, snapshot, b, snapshot],
    )
    return {"snapshot_date": snapshot.isoformat(), "segments": sides, "overlap": int(both)}
