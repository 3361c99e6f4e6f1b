"""The segment signals: ``segment_entered`` and ``segment_exited`` (docs/segments.md).

One signal per member and change in ``segment_changes`` of the cut-off's snapshot;
payload ``{"segment"}``. Key: snapshot date and segment, so a re-run of the same
snapshot adds nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from memberlens.segment._compute import CHANGES_TABLE
from memberlens.signals import Detector, Signal, SignalName
from memberlens.store import Warehouse

_NAMES = {"entered": SignalName.SEGMENT_ENTERED, "exited": SignalName.SEGMENT_EXITED}


def _detector(change: str) -> Detector:
    def detect(warehouse: Warehouse, cutoff: datetime) -> Iterator[Signal]:
        if not warehouse.has_table(CHANGES_TABLE):
            return
        snapshot = cutoff.date()
        rows = warehouse.fetch_all(
            f"SELECT member_id, segment FROM {CHANGES_TABLE} WHERE snapshot_date = ? "
            "AND change = ? ORDER BY segment, member_id",
            [snapshot, change],
        )
        for member_id, segment in rows:
            yield Signal(
                member_id=member_id,
                signal=_NAMES[change],
                occurred_at=cutoff,
                key=f"{snapshot.isoformat()}|{segment}",
                payload={"segment": segment},
            )

    return Detector(_NAMES[change], detect, f"a member {change} a saved segment")


def signal_detectors() -> tuple[Detector, ...]:
    """The segment package's detectors, for the pipeline's signals step."""
    return (_detector("entered"), _detector("exited"))
