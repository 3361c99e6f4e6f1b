"""Rules evaluated now, on the newest refresh's snapshot: previews and saved segments.

A preview counts what a rule selects; saving a segment computes its members at once
(:func:`compute_saved_segment`), so its size is known without waiting for the next
refresh. Both read the member table the segments step kept for the newest snapshot
(``segment_member_table``) when it holds every name the rule reads, else rebuild it —
with each saved segment's ``segment.<name>`` column taken from that snapshot's
``segment_members`` as they are now, so a segment computed since the refresh reads
right.

Computing a segment replaces its rows of the snapshot in ``segment_members`` and
``segment_runs``, and those of every saved segment that reads it (they would
otherwise describe the old rule), in dependency order. Entries and exits are the
refresh's to record: the next refresh compares with what the save computed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime

import ibis
import ibis.expr.types as ir

from memberlens import profile
from memberlens.core.settings import SegmentsSettings
from memberlens.rules import (
    Catalogue,
    check,
    column_of,
    compile_rule,
    evaluation_order,
    references,
)
from memberlens.segment._compute import (
    MEMBERS_TABLE,
    RUNS_TABLE,
    SAMPLE,
    STORED_TABLE,
    ensure_segment_tables,
    latest_snapshot,
    member_table,
    segment_catalogue,
)
from memberlens.segment._saved import get_segment, list_segments
from memberlens.segment.contracts import NoSnapshot, SavedSegment, SegmentPreview
from memberlens.store import StateStore, Warehouse

_SEGMENT = column_of("segment.")


def preview_segment(
    warehouse: Warehouse,
    state: StateStore,
    rule: str,
    *,
    settings: SegmentsSettings,
    book: profile.TagBook,
    sample: int = SAMPLE,
) -> SegmentPreview:
    """Count and sample the members ``rule`` selects in the newest snapshot."""
    snapshot = latest_snapshot(warehouse)
    names = [s.name for s in list_segments(state, warehouse=None)]
    catalogue = _catalogue(warehouse, book, names, snapshot)
    checked = check(rule, catalogue)
    base = _base(warehouse, snapshot, checked.names, names, settings, book)
    chosen = base.filter(compile_rule(checked, catalogue, base))
    members = _count(warehouse, chosen)
    total = _count(warehouse, base)
    ids = warehouse.to_pyarrow(chosen.select("member_id").order_by("member_id").limit(sample))
    return SegmentPreview(rule, snapshot, members, total, tuple(ids.column(0).to_pylist()))


def compute_saved_segment(
    warehouse: Warehouse,
    state: StateStore,
    name: str,
    *,
    settings: SegmentsSettings,
    book: profile.TagBook,
) -> SavedSegment:
    """Compute saved segment ``name`` — and the saved segments that read it — on the
    newest snapshot now; the segment with its size and trend.

    Before any refresh there is nothing to compute on: the segment comes back as saved
    (``members`` None) and the first refresh computes it.

    Examples
    --------
    >>> compute_saved_segment(wh, state, "vip", settings=s, book=b).members  # doctest: +SKIP
    120
    """
    get_segment(state, name)  # an unknown name is a SegmentError, as elsewhere
    try:
        snapshot = latest_snapshot(warehouse)
    except NoSnapshot:
        return _listed(warehouse, state, name)
    saved = list_segments(state, warehouse=None)
    names = [s.name for s in saved]
    rules = {s.name: s.rule for s in saved}
    catalogue = _catalogue(warehouse, book, names, snapshot)
    ensure_segment_tables(warehouse)
    with warehouse.transaction():
        for target in _affected(name, rules):
            rule = check(rules[target], catalogue)
            # Rebuilt per target: a later one may read an earlier one's new members.
            base = _base(warehouse, snapshot, rule.names, names, settings, book)
            chosen = base.filter(compile_rule(rule, catalogue, base)).select("member_id")
            _replace(warehouse, snapshot, target, rules[target], chosen)
    profile.record_usage(state, "segment", {t: rules[t] for t in _affected(name, rules)})
    return _listed(warehouse, state, name)


def _affected(name: str, rules: dict[str, str]) -> list[str]:
    """``name`` and every saved segment that reads it, directly or not, in the order
    they are evaluated."""
    order = [n.removeprefix("segment.") for n in evaluation_order(
        {f"segment.{n}": r for n, r in rules.items()}
    )]  # fmt: skip
    hit = {name}
    for other in order:
        if {f"segment.{h}" for h in hit} & references(rules[other]):
            hit.add(other)
    return [n for n in order if n in hit]


def _replace(warehouse: Warehouse, snapshot: date, name: str, rule: str, chosen: ir.Table) -> None:
    for table in (MEMBERS_TABLE, RUNS_TABLE):
        warehouse.execute(
            f"DELETE FROM {table} WHERE snapshot_date = ? AND segment = ?", [snapshot, name]
        )
    sql = str(ibis.to_sql(chosen, dialect="duckdb"))
    warehouse.execute(
        f"INSERT INTO {MEMBERS_TABLE} SELECT ?::DATE, ?, member_id FROM ({sql})",
        [snapshot, name],
    )
    warehouse.execute(
        f"INSERT INTO {RUNS_TABLE} SELECT ?::DATE, ?, ?, (SELECT count(*) FROM {MEMBERS_TABLE} "
        "WHERE snapshot_date = ? AND segment = ?)",
        [snapshot, name, rule, snapshot, name],
    )


def _listed(warehouse: Warehouse, state: StateStore, name: str) -> SavedSegment:
    return next(s for s in list_segments(state, warehouse=warehouse) if s.name == name)


def _catalogue(
    warehouse: Warehouse, book: profile.TagBook, names: Sequence[str], snapshot: date
) -> Catalogue:
    cut = datetime(snapshot.year, snapshot.month, snapshot.day)
    return segment_catalogue(book, names, warehouse=warehouse, cutoff=cut)


def _base(
    warehouse: Warehouse,
    snapshot: date,
    reads: Iterable[str],
    segments: Sequence[str],
    settings: SegmentsSettings,
    book: profile.TagBook,
) -> ir.Table:
    """The snapshot's member table for a rule that reads ``reads``: the kept one when it
    holds them all (saved segments aside), else rebuilt; with a ``segment.<name>``
    column per saved segment from its members of the snapshot now."""
    base = _stored(warehouse, snapshot, [n for n in reads if not n.startswith("segment.")])
    if base is None:  # no refresh of this snapshot holds every name the rule reads
        cut = datetime(snapshot.year, snapshot.month, snapshot.day)
        base = member_table(warehouse, cut, snapshot, settings, book)
    stale = [c for c in base.columns if c.startswith(_SEGMENT)]
    if stale:
        base = base.drop(*stale)
    return _with_segments(warehouse, base, snapshot, segments)


def _stored(warehouse: Warehouse, snapshot: date, names: Iterable[str]) -> ir.Table | None:
    """The member table the segments step kept for ``snapshot``, if it has ``names``."""
    if not warehouse.has_table(STORED_TABLE):
        return None
    table = warehouse.table(STORED_TABLE)
    if any(column_of(n) not in table.columns for n in names):
        return None
    if warehouse.scalar(f"SELECT max(snapshot_date) FROM {STORED_TABLE}") != snapshot:
        return None
    return table.drop("snapshot_date")


def _with_segments(
    warehouse: Warehouse, base: ir.Table, snapshot: date, names: Sequence[str]
) -> ir.Table:
    """``segment.<name>`` columns from the snapshot's ``segment_members`` (false if none)."""
    if not names:
        return base
    if not warehouse.has_table(MEMBERS_TABLE):
        return base.mutate(**{column_of(f"segment.{n}"): ibis.literal(False) for n in names})
    m = warehouse.table(MEMBERS_TABLE)
    m = m.filter(m.snapshot_date == snapshot)
    return base.mutate(
        **{
            column_of(f"segment.{n}"): base.member_id.isin(m.filter(m.segment == n).member_id)
            for n in names
        }
    )


def _count(warehouse: Warehouse, table: ir.Table) -> int:
    return int(warehouse.to_pyarrow(table.count().name("n").as_table()).column("n")[0].as_py())
