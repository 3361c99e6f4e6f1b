"""Identity: one member out of many source records (matching, merges, stitching).

Deterministic matching over the blind indexes ingest wrote (``member_identities``),
union-find over the identity graph, a guard against identifiers shared by too many
records, survivorship of attributes (``member_golden``), merge history with unmerge,
change notifications, and anonymous events stitched through identify/login events.
Matching rewrites ``member_map`` only; raw rows are never touched. See docs/identity.md.
"""

from memberlens.identity._golden import rebuild_golden
from memberlens.identity._history import unmerge
from memberlens.identity._keys import email_match_key
from memberlens.identity._notify import changes_since, on_change
from memberlens.identity._resolve import resolve
from memberlens.identity._show import member_records
from memberlens.identity._stitch import LINKING_EVENTS, events_with_members
from memberlens.identity.contracts import (
    FlaggedIdentifier,
    IdentityChange,
    NothingToUnmerge,
    ResolveResult,
    SourceRecord,
    UnknownMember,
    UnmergeResult,
)

__all__ = [
    "LINKING_EVENTS",
    "FlaggedIdentifier",
    "IdentityChange",
    "NothingToUnmerge",
    "ResolveResult",
    "SourceRecord",
    "UnknownMember",
    "UnmergeResult",
    "changes_since",
    "email_match_key",
    "events_with_members",
    "member_records",
    "on_change",
    "rebuild_golden",
    "resolve",
    "unmerge",
]
