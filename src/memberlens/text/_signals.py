"""The ``complaint_received`` signal (docs/text.md).

Emitted once per complaint — feedback of kind ``complaint``, or feedback the text step
read as clearly negative — given within ``[text] complaint_signal_days`` before the
refresh's cut-off, for the member behind it. Key: the feedback id, so a complaint is
signalled once whatever the number of refreshes that see it. Payload ``{"feedback_id",
"kind", "sentiment", "aspects", "product_id", "channel"}`` — never the text itself.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from memberlens.signals import Detector, Signal, SignalName
from memberlens.store import Warehouse
from memberlens.text._step import TABLE


def signal_detectors(days: int) -> tuple[Detector, ...]:
    """The text package's detectors, for the pipeline's signals step."""

    def detect(warehouse: Warehouse, cutoff: datetime) -> Iterator[Signal]:
        if not warehouse.has_table(TABLE) or not warehouse.has_table("feedback"):
            return
        moment = cutoff.astimezone(UTC).replace(tzinfo=None) if cutoff.tzinfo else cutoff
        rows = warehouse.fetch_all(
            f"""
            SELECT m.member_id, f.feedback_id, f.occurred_at, f.kind, i.sentiment,
                   i.aspects, f.product_id, f.channel
            FROM {TABLE} i
            JOIN feedback f USING (feedback_id)
            JOIN member_map m
              ON m.source = f.source AND m.source_member_key = f.source_member_key
            WHERE i.complaint AND f.occurred_at >= ? AND f.occurred_at < ?
            ORDER BY m.member_id, f.occurred_at, f.feedback_id
            """,
            [moment - timedelta(days=days), moment],
        )
        for member_id, feedback_id, at, kind, sentiment, aspects, product, channel in rows:
            yield Signal(
                member_id=member_id,
                signal=SignalName.COMPLAINT_RECEIVED,
                occurred_at=at,
                key=feedback_id,
                payload={
                    "feedback_id": feedback_id,
                    "kind": kind,
                    "sentiment": sentiment,
                    "aspects": sorted(json.loads(aspects)) if aspects else [],
                    "product_id": product,
                    "channel": channel,
                },
            )

    return (
        Detector(
            SignalName.COMPLAINT_RECEIVED,
            detect,
            f"a member complained (or wrote clearly negative feedback) in the last {days} days",
        ),
    )
