"""Signals: what journeys trigger on (``member_signals``), written by the "signals" step.

Domains offer :class:`Detector` objects through their front doors; the pipeline hands
the list to :func:`emit`, which records each signal once. Adding a signal is adding a
detector to that list — this package does not change. Signals are never written into
the raw ``events`` table (that would distort behaviour features).
"""

from memberlens.signals._emit import emit, read_signals, signal_id
from memberlens.signals.contracts import (
    Detect,
    Detector,
    EmitResult,
    RecordedSignal,
    Signal,
    SignalError,
    SignalName,
)

__all__ = [
    "Detect",
    "Detector",
    "EmitResult",
    "RecordedSignal",
    "Signal",
    "SignalError",
    "SignalName",
    "emit",
    "read_signals",
    "signal_id",
]
