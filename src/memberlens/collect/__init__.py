"""Collect: rows from applications (events, members, orders, products, consents),
buffered in the state DB before the API answers, flushed into the warehouse by the job
runner."""

from memberlens.collect._buffer import (
    ACCEPTED_KINDS,
    MAX_BATCH,
    accept,
    accept_orders,
    flush,
    pending_count,
)
from memberlens.collect._consents import CONSENT_FIELDS, accept_consents
from memberlens.collect._points import accept_points_adjustment, flush_points_adjustments
from memberlens.collect.contracts import AcceptResult, FlushResult, ItemResult

__all__ = [
    "ACCEPTED_KINDS",
    "CONSENT_FIELDS",
    "MAX_BATCH",
    "AcceptResult",
    "FlushResult",
    "ItemResult",
    "accept",
    "accept_consents",
    "accept_orders",
    "accept_points_adjustment",
    "flush",
    "flush_points_adjustments",
    "pending_count",
]
