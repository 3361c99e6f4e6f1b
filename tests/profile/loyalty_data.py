"""Small order books for the tiers & points tests, with their answers counted by hand."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from memberlens import profile
from memberlens.core.settings import PointsSettings, TiersSettings
from memberlens.workspace import Workspace
from tests.ingest.helpers import run, write

HEADER = "order_id,source,source_member_key,ordered_at,total_amount,status\n"


def load_orders(ws: Workspace, folder: Path, lines: str, name: str = "orders") -> None:
    result = run(ws, "orders", write(folder / f"{name}.csv", HEADER + lines))
    assert result.quarantined == 0, result


def member(ws: Workspace, source: str, key: str) -> str:
    found = ws.warehouse.scalar(
        "SELECT member_id FROM member_map WHERE source = ? AND source_member_key = ?",
        [source, key],
    )
    assert found, f"{source}/{key} is not in member_map"
    return str(found)


def refresh(
    ws: Workspace,
    day: date,
    *,
    tiers: TiersSettings | None = None,
    points: PointsSettings | None = None,
) -> profile.LoyaltyRun:
    return profile.refresh_loyalty(
        ws.warehouse,
        cutoff=datetime(day.year, day.month, day.day),
        tiers=tiers or TiersSettings(),
        points=points or PointsSettings(),
    )


def ledger(ws: Workspace, member_id: str | None = None) -> list[tuple[object, ...]]:
    """(reason, points, source_ref, occurred_at) of every movement, in time order."""
    where = "WHERE member_id = ?" if member_id else ""
    return ws.warehouse.fetch_all(
        "SELECT reason, points, source_ref, occurred_at FROM points_ledger "
        f"{where} ORDER BY occurred_at, reason, source_ref",
        [member_id] if member_id else None,
    )


def balance(ws: Workspace, member_id: str, day: date) -> int:
    """The ledger's invariant: the balance is the sum of movements before the cut-off."""
    return int(
        ws.warehouse.scalar(
            "SELECT coalesce(sum(points), 0) FROM points_ledger "
            "WHERE member_id = ? AND occurred_at < ?",
            [member_id, datetime(day.year, day.month, day.day)],
        )
    )
