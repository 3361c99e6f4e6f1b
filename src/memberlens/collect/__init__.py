"""Collect: events from applications, buffered in the state DB, flushed to the warehouse."""

from memberlens.collect._buffer import MAX_BATCH, accept_events, flush, pending_count
from memberlens.collect.contracts import AcceptResult, FlushResult, ItemResult

__all__ = [
    "MAX_BATCH",
    "AcceptResult",
    "FlushResult",
    "ItemResult",
    "accept_events",
    "flush",
    "pending_count",
]
