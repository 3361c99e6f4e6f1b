"""Audit: an append-only, hash-chained record of changes and of views of personal data."""

from memberlens.audit._chain import count, entries, forget_member, record, verify_chain
from memberlens.audit.contracts import AuditEntry, ChainReport

__all__ = [
    "AuditEntry",
    "ChainReport",
    "count",
    "entries",
    "forget_member",
    "record",
    "verify_chain",
]
