"""Audit: an append-only, hash-chained record of changes and of views of personal data."""

from memberlens.audit._browse import PER_PAGE, browse
from memberlens.audit._chain import count, entries, forget_member, record, verify_chain
from memberlens.audit.contracts import AuditEntry, AuditPage, ChainReport

__all__ = [
    "PER_PAGE",
    "AuditEntry",
    "AuditPage",
    "ChainReport",
    "browse",
    "count",
    "entries",
    "forget_member",
    "record",
    "verify_chain",
]
