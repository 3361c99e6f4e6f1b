"""The ``churn_risk_crossed`` signal (docs/predictions.md).

A member's churn risk crossed ``[predict] churn_alert`` when today's snapshot puts it
at or above the threshold and the member's previous scored snapshot had it below. A
member never scored before has crossed nothing (so the first scoring of a workspace
does not alert its whole base). Payload ``{"churn_risk", "threshold", "reasons"}``
(the reasons' texts). Key: the snapshot date, so a re-run of the same snapshot adds
nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime

from memberlens.predict._reasons import with_texts
from memberlens.predict._step import PREDICTIONS_TABLE
from memberlens.signals import Detector, Signal, SignalName
from memberlens.store import Warehouse


def signal_detectors(threshold: float) -> tuple[Detector, ...]:
    """The predict package's detectors, for the pipeline's signals step."""

    def detect(warehouse: Warehouse, cutoff: datetime) -> Iterator[Signal]:
        if not warehouse.has_table(PREDICTIONS_TABLE):
            return
        snapshot = cutoff.date()
        rows = warehouse.fetch_all(
            f"""
            WITH now AS (
                SELECT member_id, churn_risk, churn_reasons FROM {PREDICTIONS_TABLE}
                WHERE snapshot_date = ? AND churn_risk >= ?
            ), before AS (
                SELECT member_id, arg_max(churn_risk, snapshot_date) AS risk
                FROM {PREDICTIONS_TABLE} WHERE snapshot_date < ? AND churn_risk IS NOT NULL
                GROUP BY member_id
            )
            SELECT now.member_id, now.churn_risk, now.churn_reasons
            FROM now JOIN before USING (member_id)
            WHERE before.risk < ?
            ORDER BY now.member_id
            """,
            [snapshot, threshold, snapshot, threshold],
        )
        for member_id, risk, reasons in rows:
            yield Signal(
                member_id=member_id,
                signal=SignalName.CHURN_RISK_CROSSED,
                occurred_at=cutoff,
                key=snapshot.isoformat(),
                payload={
                    "churn_risk": round(float(risk), 4),
                    "threshold": threshold,
                    "reasons": [r["text"] for r in with_texts(json.loads(reasons or "[]"))],
                },
            )

    return (
        Detector(
            SignalName.CHURN_RISK_CROSSED,
            detect,
            f"a member's churn risk rose to {threshold:.0%} or more",
        ),
    )
