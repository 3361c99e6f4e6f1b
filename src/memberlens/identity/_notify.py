"""Merge and unmerge notifications: rows in the state DB, then callbacks.

Every run that changes ``member_map`` writes one ``identity_changes`` row per
(survivor, absorbed) pair in the state DB, after the warehouse has committed the new
map, and then calls the subscribers registered with :func:`on_change`. Parts that must
not miss a change (the outbox, experiment assignments) can instead read
:func:`changes_since` with the last ``seq`` they handled: the rows outlive the process.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from datetime import datetime

from sqlalchemy import insert, select

from memberlens.identity.contracts import ChangeKind, IdentityChange
from memberlens.store import IdentityChangeRow, StateStore

Subscriber = Callable[[tuple[IdentityChange, ...]], None]
_SUBSCRIBERS: list[Subscriber] = []
_log = logging.getLogger(__name__)


def on_change(callback: Subscriber) -> Callable[[], None]:
    """Call ``callback`` with the changes of every identity run that commits some.

    Returns the function that unsubscribes it. Callbacks run after both stores have
    committed; one that raises is logged and the others still run.

    Examples
    --------
    >>> seen = []
    >>> stop = on_change(seen.extend)
    >>> stop()
    """
    _SUBSCRIBERS.append(callback)

    def unsubscribe() -> None:
        if callback in _SUBSCRIBERS:
            _SUBSCRIBERS.remove(callback)

    return unsubscribe


def record_changes(
    state: StateStore,
    pairs: Iterable[tuple[ChangeKind, str, str]],
    *,
    run_id: str,
    at: datetime,
) -> tuple[IdentityChange, ...]:
    """Write (kind, survivor, absorbed) pairs to ``identity_changes``; notify subscribers."""
    rows = [
        {"kind": k, "survivor": s, "absorbed": a, "at": at, "run_id": run_id}
        for k, s, a in sorted(set(pairs))
    ]
    if not rows:
        return ()
    with state.session() as s, s.begin():
        s.execute(insert(IdentityChangeRow), rows)
    changes = changes_for_run(state, run_id)
    for callback in list(_SUBSCRIBERS):
        try:
            callback(changes)
        except Exception:  # one broken subscriber must not hide the change from others
            _log.exception("identity change subscriber %r failed", callback)
    return changes


def _change(row: IdentityChangeRow) -> IdentityChange:
    kind: ChangeKind = "merge" if row.kind == "merge" else "unmerge"
    return IdentityChange(row.seq, kind, row.survivor, row.absorbed, row.at, row.run_id)


def changes_for_run(state: StateStore, run_id: str) -> tuple[IdentityChange, ...]:
    with state.session() as s:
        found = s.scalars(
            select(IdentityChangeRow)
            .where(IdentityChangeRow.run_id == run_id)
            .order_by(IdentityChangeRow.seq)
        )
        return tuple(_change(r) for r in found)


def changes_since(state: StateStore, seq: int = 0, *, limit: int = 10_000) -> list[IdentityChange]:
    """Identity changes after ``seq``, oldest first (for subscribers that poll)."""
    with state.session() as s:
        found = s.scalars(
            select(IdentityChangeRow)
            .where(IdentityChangeRow.seq > seq)
            .order_by(IdentityChangeRow.seq)
            .limit(limit)
        )
        return [_change(r) for r in found]
