"""A file whose columns cannot fill a table is refused once, before any row is read.

Without a source for a required column (``ordered_at`` of orders, say) every row would
fail the same check; instead the import stops with one message: what is missing, what
the file has, the file's columns nearest to canonical names (``difflib``; a mapping
may rename them) and the mapping line that would do it.
"""

from __future__ import annotations

import difflib
from pathlib import Path

from memberlens.core.errors import InputError
from memberlens.ingest._compile import resolve_specs, used_columns
from memberlens.ingest._mapping import ColumnSpec, Mapping
from memberlens.schema import RAW_TABLES

NEAR = 0.5  # difflib ratio: order_date ~ ordered_at (0.8), member ~ source_member_key (0.52)
CLOSE = 0.75  # close enough without a shared word (customer ~ store is 0.62)
# Events need a member key or an anonymous id, either one.
_EITHER = {"events": ("source_member_key", "anonymous_id")}


def check_columns(
    path: Path, mapping: Mapping, found: list[str], targets: list[str], source: str | None
) -> None:
    """Raise an :class:`InputError` when a target table lacks a required column."""
    specs = {t: resolve_specs(RAW_TABLES[t], mapping, found, source) for t in targets}
    missing = {t: _missing(t, specs[t]) for t in targets}
    if not any(missing.values()):
        return
    used = {c for t in targets for c in used_columns(specs[t])}
    unused = [c for c in found if c not in used]
    # Canonical columns no file column fills (an id made from the row's content counts).
    open_names = [
        c.name
        for t in targets
        for c in RAW_TABLES[t].columns
        if not c.derived
        and c.name != "source"
        and (c.name not in specs[t] or _made_up(c.name, specs[t], mapping.tables.get(t, {})))
    ]
    near = [(col, hit) for col in unused if (hit := _nearest(col, open_names))]
    need = "; ".join(f"{t} need {' and '.join(names)}" for t, names in missing.items() if names)
    parts = [
        f"{path}: {need}, which no column of the file gives, so no row could load",
        f"the file has {', '.join(found) or 'no columns'}",
    ]
    if near:
        parts.append("nearest names: " + ", ".join(f"{c} → {name}" for c, name in near))
    parts.append(
        "rename those columns in the file, or map them with --mapping FILE, e.g. "
        + _example(missing, near)
        + " (see docs/mappings.md)"
    )
    raise InputError("; ".join(parts), code="MISSING_COLUMNS")


def _missing(table: str, specs: dict[str, ColumnSpec]) -> list[str]:
    names = [c.name for c in RAW_TABLES[table].columns if c.required and not c.derived]
    out = [n for n in names if n not in specs]
    either = _EITHER.get(table)
    if either and not any(n in specs for n in either):
        out.append(" or ".join(either))
    return out


def _made_up(name: str, specs: dict[str, ColumnSpec], explicit: dict[str, ColumnSpec]) -> bool:
    """Whether ``name`` is only the row identity by default (an id column not mapped)."""
    return specs[name].row_id and name not in explicit


def _nearest(column: str, names: list[str]) -> str | None:
    """The canonical name ``column`` most likely means: close in spelling (difflib), and
    sharing a word or very close (``customer`` is not ``store``)."""
    key = column.strip().lower().replace(" ", "_").replace("-", "_")
    for name in difflib.get_close_matches(key, names, n=3, cutoff=NEAR):
        close = difflib.SequenceMatcher(None, key, name).ratio() >= CLOSE
        if close or set(key.split("_")) & set(name.split("_")):
            return name
    return None


def _example(missing: dict[str, list[str]], near: list[tuple[str, str]]) -> str:
    table, names = next((t, n) for t, n in missing.items() if n)
    wanted = names[0].split(" or ")[0]
    column = next((c for c, name in near if name == wanted), "YOUR_COLUMN")
    return f'[tables.{table}] {wanted} = "{column}"'
