"""The refresh's predictions step: score every buyer with the production models.

Today that is the CLV model (BG/NBD + Gamma-Gamma): ``member_predictions`` gets, per
member who bought before the cut-off and per snapshot date, P(alive), expected
purchases in 30/90/365 days, the expected order value, the discounted CLV and its
percentile, and the model version that made them. Without a production model the step
writes nothing and says how to fit one.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from memberlens.predict._clv import load_clv_model, score_clv
from memberlens.predict._registry import ModelNotFoundError
from memberlens.store import StateStore, Warehouse

PREDICTIONS_TABLE = "member_predictions"
# The scores the table keeps; rules read them as prediction.<name>.
SCORES = (
    "p_alive",
    "expected_purchases_30d",
    "expected_purchases_90d",
    "expected_purchases_365d",
    "expected_order_value",
    "clv",
    "clv_percentile",
)


def ensure_predictions_table(warehouse: Warehouse) -> None:
    scores = ", ".join(f"{name} DOUBLE" for name in SCORES)
    warehouse.execute(
        f"CREATE TABLE IF NOT EXISTS {PREDICTIONS_TABLE} (snapshot_date DATE NOT NULL, "
        f"member_id VARCHAR NOT NULL, {scores}, model_version VARCHAR NOT NULL)"
    )


def compute_predictions(
    warehouse: Warehouse, state: StateStore, root: Path, *, cutoff: datetime
) -> dict[str, Any]:
    """Replace the cut-off day's snapshot of ``member_predictions``; the step summary."""
    ensure_predictions_table(warehouse)
    try:
        model = load_clv_model(state, root)
    except ModelNotFoundError:
        return {"clv": "no production model: fit one with `memberlens predict clv`"}
    moment = cutoff.astimezone(UTC).replace(tzinfo=None) if cutoff.tzinfo else cutoff
    snapshot = moment.date()
    scored = score_clv(warehouse, model, moment)
    rows = pa.table(
        {
            "snapshot_date": pa.array([snapshot] * scored.num_rows, pa.date32()),
            "member_id": scored.column("member_id"),
            **{name: scored.column(name) for name in SCORES},
            "model_version": scored.column("model_version"),
        }
    )
    with warehouse.transaction():
        warehouse.execute(f"DELETE FROM {PREDICTIONS_TABLE} WHERE snapshot_date = ?", [snapshot])
        warehouse.native.register("_new_predictions", rows)
        try:
            warehouse.execute(
                f"INSERT INTO {PREDICTIONS_TABLE} BY NAME SELECT * FROM _new_predictions"
            )
        finally:
            warehouse.native.unregister("_new_predictions")
    return {"members": rows.num_rows, "clv_model": model.version}


def member_predictions(warehouse: Warehouse, member_id: str) -> dict[str, Any] | None:
    """The member's newest predictions, or None."""
    if not warehouse.has_table(PREDICTIONS_TABLE):
        return None
    cursor = warehouse.execute(
        f"SELECT * FROM {PREDICTIONS_TABLE} WHERE member_id = ? "
        "ORDER BY snapshot_date DESC LIMIT 1",
        [member_id],
    )
    row = cursor.fetchone()
    if row is None:
        return None
    names = [c[0] for c in cursor.description]
    found = dict(zip(names, row, strict=True))
    found["snapshot_date"] = found["snapshot_date"].isoformat()
    return found
