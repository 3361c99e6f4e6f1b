"""Saved segments: definitions in the state DB, sizes from the warehouse."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import date

from sqlalchemy import select

from memberlens.core.clock import utc_now
from memberlens.rules import Catalogue, RuleError, check, evaluation_order, references
from memberlens.segment.contracts import SavedSegment, SegmentError
from memberlens.store import SegmentRow, StateStore, Warehouse

NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")
RUNS_TABLE = "segment_runs"
# The catalogue segment rules are checked against, given the saved segments' names.
CatalogueFor = Callable[[Sequence[str]], Catalogue]


def _saved(row: SegmentRow) -> SavedSegment:
    return SavedSegment(
        name=row.name,
        rule=row.rule,
        description=row.description,
        owner=row.owner,
        created_by=row.created_by,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def list_segments(state: StateStore, *, warehouse: Warehouse | None) -> list[SavedSegment]:
    """Every saved segment by name; with a warehouse, its size and trend per snapshot."""
    with state.session() as s:
        found = [_saved(r) for r in s.scalars(select(SegmentRow).order_by(SegmentRow.name))]
    if warehouse is None or not warehouse.has_table(RUNS_TABLE):
        return found
    sizes: dict[str, list[tuple[date, int]]] = {}
    for snapshot, name, members in warehouse.fetch_all(
        f"SELECT snapshot_date, segment, members FROM {RUNS_TABLE} ORDER BY snapshot_date"
    ):
        sizes.setdefault(name, []).append((snapshot, int(members)))
    out = []
    for seg in found:
        trend = sizes.get(seg.name, [])
        if trend:
            seg = replace(seg, members=trend[-1][1], snapshot_date=trend[-1][0], trend=tuple(trend))
        out.append(seg)
    return out


def get_segment(state: StateStore, name: str) -> SavedSegment:
    with state.session() as s:
        row = s.get(SegmentRow, name)
        if row is None:
            names = list(s.scalars(select(SegmentRow.name)))
            hint = f"the saved ones are: {', '.join(names)}" if names else "none is saved yet"
            raise SegmentError(f"no segment named {name!r}; {hint}")
        return _saved(row)


def save_segment(
    state: StateStore,
    catalogue_for: CatalogueFor,
    *,
    name: str,
    rule: str,
    actor: str,
    description: str = "",
    owner: str = "",
) -> SavedSegment:
    """Check and store a segment (a new one, or a new rule for an existing one).

    ``catalogue_for(names)`` gives the catalogue for the saved segments ``names``. The
    rule must check against it and no segment may reach itself through others.
    """
    if not NAME.fullmatch(name):
        raise SegmentError(
            f"{name!r} is not a segment name: use 1-64 lower-case letters, digits and _, "
            "starting with a letter (e.g. lapsing_vips)"
        )
    others = {s.name: s.rule for s in list_segments(state, warehouse=None) if s.name != name}
    try:
        check(rule, catalogue_for([*others, name]))
        evaluation_order({f"segment.{n}": r for n, r in {**others, name: rule}.items()})
    except RuleError as error:
        raise SegmentError(f"segment {name!r}: {error}") from None
    now = utc_now().replace(tzinfo=None)
    with state.session() as s, s.begin():
        row = s.get(SegmentRow, name)
        if row is None:
            row = SegmentRow(name=name, created_by=actor, created_at=now)
            s.add(row)
        row.rule, row.description, row.owner, row.updated_at = rule, description, owner, now
    return get_segment(state, name)


def delete_segment(state: StateStore, name: str) -> None:
    """Forget a segment's definition (its past snapshots stay in the warehouse)."""
    readers = [
        s.name
        for s in list_segments(state, warehouse=None)
        if s.name != name and f"segment.{name}" in references(s.rule)
    ]
    if readers:
        raise SegmentError(
            f"segment {name!r} is read by {', '.join(readers)}; change or delete those first"
        )
    get_segment(state, name)
    with state.session() as s, s.begin():
        s.delete(s.get(SegmentRow, name))
