"""Run the registered detectors and record what they saw, each signal once.

A signal's id is a stable hash of its name, member and key (:func:`signal_id`); the
new ones are anti-joined against ``member_signals`` and appended, all in one
transaction. So a refresh run twice — or a later refresh that sees the same
occurrence again — adds nothing.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import UTC, datetime

import pyarrow as pa

from memberlens.signals.contracts import (
    Detector,
    EmitResult,
    RecordedSignal,
    Signal,
    SignalError,
    SignalName,
)
from memberlens.store import Warehouse

_SEP = "\x1f"
SCHEMA = pa.schema(
    [
        ("signal_id", pa.string()),
        ("member_id", pa.string()),
        ("signal", pa.string()),
        ("occurred_at", pa.timestamp("us")),
        ("snapshot_date", pa.date32()),
        ("payload", pa.string()),
    ]
)


def signal_id(signal: str, member_id: str, key: str) -> str:
    """The stable id of one occurrence.

    Examples
    --------
    >>> signal_id("tier_changed", "m_1", "2025-01-01")
    'sg_044e59298a4e030cb49e7a3866a6ac29'
    """
    text = _SEP.join((signal, member_id, key))
    return "sg_" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def _checked(detector: Detector, found: Signal) -> Signal:
    if found.signal != detector.signal:
        raise SignalError(
            f"the {detector.signal.value} detector produced a {found.signal} signal; a "
            "detector yields its own signal only (register one detector per signal)"
        )
    return found


def emit(warehouse: Warehouse, *, cutoff: datetime, detectors: Sequence[Detector]) -> EmitResult:
    """Run ``detectors`` as of ``cutoff`` and append their new signals to ``member_signals``.

    Detectors receive the cut-off as naive UTC, like the warehouse's timestamps.
    """
    cutoff = cutoff.astimezone(UTC).replace(tzinfo=None) if cutoff.tzinfo else cutoff
    snapshot = cutoff.date()
    rows: dict[str, dict[str, object]] = {}
    for detector in detectors:
        for found in detector.detect(warehouse, cutoff):
            sig = _checked(detector, found)
            sid = signal_id(sig.signal.value, sig.member_id, sig.key)
            rows.setdefault(
                sid,
                {
                    "signal_id": sid,
                    "member_id": sig.member_id,
                    "signal": sig.signal.value,
                    "occurred_at": sig.occurred_at,
                    "snapshot_date": snapshot,
                    "payload": json.dumps(dict(sig.payload), sort_keys=True, default=str),
                },
            )
    table = pa.Table.from_pylist(list(rows.values()), schema=SCHEMA)
    emitted: dict[str, int] = {d.signal.value: 0 for d in detectors}
    with warehouse.transaction():
        warehouse.native.register("_found_signals", table)
        try:
            new = warehouse.fetch_all(
                "SELECT f.signal FROM _found_signals f ANTI JOIN member_signals s USING (signal_id)"
            )
            warehouse.execute(
                "INSERT INTO member_signals BY NAME SELECT f.* FROM _found_signals f "
                "ANTI JOIN member_signals s USING (signal_id)"
            )
        finally:
            warehouse.native.unregister("_found_signals")
    for (name,) in new:
        emitted[name] = emitted.get(name, 0) + 1
    return EmitResult(snapshot, emitted, table.num_rows - len(new))


def read_signals(
    warehouse: Warehouse, *, member_id: str | None = None, signal: SignalName | None = None
) -> list[RecordedSignal]:
    """Recorded signals, oldest first (optionally of one member or one name)."""
    t = warehouse.table("member_signals")
    if member_id is not None:
        t = t.filter(t.member_id == member_id)
    if signal is not None:
        t = t.filter(t.signal == signal.value)
    rows = warehouse.to_pyarrow(t.order_by(["occurred_at", "signal_id"])).to_pylist()
    return [RecordedSignal(**{**r, "payload": json.loads(r["payload"])}) for r in rows]
