"""Undoing a merge: the previous map comes back and stays back.

``identity_merges`` holds, for every ``member_map`` row a run changed, the member id
and reason it had before. Unmerging a member (its latest merge) or a whole run puts
those back, records the restoration as a run of its own, and writes a split to
``identity_splits`` — each record of the cluster labelled with the member it returns
to — so that the next matching run does not join them again on the same identifiers.
"""

from __future__ import annotations

from datetime import datetime

import pyarrow as pa

from memberlens.core.ids import new_run_id
from memberlens.identity._golden import rebuild_golden
from memberlens.identity._notify import record_changes
from memberlens.identity._resolve import _now
from memberlens.identity.contracts import ChangeKind, NothingToUnmerge, UnmergeResult
from memberlens.store import StateStore, Warehouse


def _targets(
    warehouse: Warehouse, member_id: str | None, run_id: str | None
) -> list[tuple[str, str]]:
    """(run, member) pairs whose merges are to be undone."""
    if run_id is not None:
        rows = warehouse.fetch_all(
            "SELECT DISTINCT run_id, member_id FROM identity_merges WHERE kind = 'merge' "
            "AND run_id = ? AND (? IS NULL OR member_id = ?) ORDER BY member_id",
            [run_id, member_id, member_id],
        )
        if not rows:
            raise NothingToUnmerge(
                f"run {run_id} merged nothing{' into ' + member_id if member_id else ''}; "
                "see the merge runs with `memberlens identity show MEMBER_ID`"
            )
        return [(r, m) for r, m in rows]
    row = warehouse.fetch_all(
        "SELECT run_id FROM identity_merges WHERE kind = 'merge' AND member_id = ? "
        "GROUP BY run_id ORDER BY max(merged_at) DESC, run_id DESC LIMIT 1",
        [member_id],
    )
    if not row:
        raise NothingToUnmerge(
            f"member {member_id} was never the survivor of a merge; "
            "`memberlens identity show MEMBER_ID` lists its records"
        )
    return [(row[0][0], str(member_id))]


def unmerge(
    warehouse: Warehouse,
    state: StateStore,
    *,
    member_id: str | None = None,
    run_id: str | None = None,
    source_priority: list[str] | None = None,
) -> UnmergeResult:
    """Restore the map each record had before the merge (by member, or a whole run)."""
    if member_id is None and run_id is None:
        raise NothingToUnmerge("name a member id or a run id to unmerge")
    targets = _targets(warehouse, member_id, run_id)
    undo_run, now = new_run_id("idu"), _now()
    restored = 0
    pairs: list[tuple[ChangeKind, str, str]] = []
    with warehouse.transaction():
        for merge_run, survivor in targets:
            rows = warehouse.fetch_all(
                "SELECT h.source, h.source_member_key, h.previous_member_id, h.previous_reason "
                "FROM identity_merges h JOIN member_map m USING (source, source_member_key) "
                "WHERE h.run_id = ? AND h.kind = 'merge' AND h.member_id = ? "
                "AND m.member_id = ? ORDER BY ALL",
                [merge_run, survivor, survivor],
            )
            _restore(warehouse, rows, survivor, undo_run=undo_run, now=now)
            restored += len(rows)
            pairs += [("unmerge", survivor, r[2]) for r in rows if r[2] != survivor]
        rebuild_golden(warehouse, source_priority or [])
    record_changes(state, pairs, run_id=undo_run, at=now)
    return UnmergeResult(undo_run, restored, tuple(sorted({m for _, m in targets})))


def _restore(
    warehouse: Warehouse,
    rows: list[tuple[str, str, str, str]],
    survivor: str,
    *,
    undo_run: str,
    now: datetime,
) -> None:
    """Put rows back, keep the restoration's own history, and split the cluster."""
    if not rows:
        return
    split = f"{undo_run}:{survivor}"
    warehouse.execute(
        "INSERT INTO identity_splits SELECT ?, source, source_member_key, member_id "
        "FROM member_map WHERE member_id = ?",
        [split, survivor],
    )
    table = pa.table(
        {
            "source": [r[0] for r in rows],
            "source_member_key": [r[1] for r in rows],
            "member_id": [r[2] for r in rows],
            "reason": [r[3] for r in rows],
        }
    )
    warehouse.native.register("restored", table)
    warehouse.execute(
        "UPDATE identity_splits SET grp = r.member_id FROM restored r "
        "WHERE split_id = ? AND identity_splits.source = r.source "
        "AND identity_splits.source_member_key = r.source_member_key",
        [split],
    )
    warehouse.execute(
        "INSERT INTO identity_merges SELECT ?, ?, 'unmerge', r.source, r.source_member_key, "
        "m.member_id, m.reason, r.member_id FROM restored r "
        "JOIN member_map m USING (source, source_member_key)",
        [undo_run, now],
    )
    warehouse.execute(
        "UPDATE member_map SET member_id = r.member_id, reason = r.reason FROM restored r "
        "WHERE member_map.source = r.source AND member_map.source_member_key = r.source_member_key"
    )
    warehouse.native.unregister("restored")
