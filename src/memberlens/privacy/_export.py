"""Analytics extracts: pseudonymised ids, no direct identifiers, generalised
quasi-identifiers and the smallest group size *k* (k-anonymity; Sweeney 2002,
"k-anonymity: a model for protecting privacy").

Everything is one Ibis expression run in the warehouse engine: member ids come
through ``member_map`` and become salted SHA-256 pseudonyms; personal columns, blind
indexes, bookkeeping columns and free-form JSON or text (which may carry anything a
source sent) are dropped; a row whose quasi-identifier group is smaller than the
target size has its city replaced by its region, and then both by ``*`` (local
recoding over the hierarchy city -> region -> everything).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import ibis
import ibis.expr.types as ir
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from memberlens.core.errors import UsageError
from memberlens.privacy._keyring import KeyRing
from memberlens.schema import RAW_TABLES, ColumnType
from memberlens.store import META_COLUMNS, Warehouse

K_TARGET = 5
DEFAULT_QUASI = ("age_band", "gender", "city", "region")
SUPPRESSED = "*"
PSEUDONYM = "member_pseudonym"
# Free text that a person typed may name them or give a phone number.
_FREE_TEXT = {("events", "query"), ("feedback", "text"), ("members", "birth_md")}
_GROUP = "_group_key"
SaltMode = Literal["export", "workspace"]


@dataclass(frozen=True)
class ExportRequest:
    """What to extract: a raw table, pseudonymised or not, to a CSV or Parquet file."""

    table: str
    out: Path
    pseudonymize: bool = True
    quasi: tuple[str, ...] | None = None  # None: the defaults present in the table
    k_target: int = K_TARGET
    salt: SaltMode = "export"


@dataclass(frozen=True)
class ExportReport:
    table: str
    file: str
    format: str
    rows: int
    columns: tuple[str, ...]
    pseudonymized: bool
    salt: str | None
    quasi: tuple[str, ...]
    k: int | None
    k_target: int
    generalised: dict[str, int]
    warning: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "file": self.file,
            "format": self.format,
            "rows": self.rows,
            "columns": list(self.columns),
            "pseudonymized": self.pseudonymized,
            "salt": self.salt,
            "quasi_identifiers": list(self.quasi),
            "k": self.k,
            "k_target": self.k_target,
            "generalised": self.generalised,
            "warning": self.warning,
        }


def export_format(out: Path) -> str:
    suffix = out.suffix.lower()
    if suffix not in (".csv", ".parquet"):
        raise UsageError(f"cannot write '{out.name}': name the file .csv or .parquet")
    return suffix[1:]


def export_salt(keyring: KeyRing, mode: SaltMode) -> str:
    """A fresh random salt per export, or one derived from the workspace's key ring
    (stable across exports until the next key rotation); neither is written out."""
    if mode == "workspace":
        return keyring.blind_index("pseudonym-salt", kind="export")
    return secrets.token_hex(32)


def export_table(warehouse: Warehouse, keyring: KeyRing, request: ExportRequest) -> ExportReport:
    """Write the extract ``request`` describes and report its size and *k*."""
    fmt = export_format(request.out)
    table = RAW_TABLES.get(request.table)
    if table is None:
        raise UsageError(f"unknown table '{request.table}'; choose one of: {', '.join(RAW_TABLES)}")
    if table.has_personal and not request.pseudonymize:
        raise UsageError(
            f"{table.name} holds personal columns ({', '.join(table.personal)}); "
            "export it with --pseudonymize"
        )
    expr = _without_bookkeeping(warehouse.table(table.name))
    quasi: tuple[str, ...] = ()
    k: int | None = None
    generalised: dict[str, int] = {}
    if request.pseudonymize:
        salt = export_salt(keyring, request.salt)
        expr = pseudonymised(warehouse, expr, table.name, salt)
        quasi = _quasi(expr, request.quasi)
        expr, generalised = generalise(warehouse, expr, quasi, request.k_target)
        k = smallest_group(warehouse, expr, quasi)
    data = warehouse.to_pyarrow(expr)
    request.out.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "csv":
        pa_csv.write_csv(data, request.out)
    else:
        pq.write_table(data, request.out)
    warning = None
    if k is not None and k < request.k_target:
        warning = (
            f"smallest group over {', '.join(quasi)} holds {k} member(s), "
            f"below {request.k_target}: "
            "drop a quasi-identifier (--quasi) or share the extract only under contract"
        )
    return ExportReport(
        table=table.name,
        file=str(request.out),
        format=fmt,
        rows=data.num_rows,
        columns=tuple(data.column_names),
        pseudonymized=request.pseudonymize,
        salt=request.salt if request.pseudonymize else None,
        quasi=quasi,
        k=k,
        k_target=request.k_target,
        generalised=generalised,
        warning=warning,
    )


def _without_bookkeeping(t: ir.Table) -> ir.Table:
    meta = {name for name, _ in META_COLUMNS}
    return t.select([c for c in t.columns if c not in meta])


def pseudonymised(warehouse: Warehouse, t: ir.Table, name: str, salt: str) -> ir.Table:
    """Replace member keys by salted pseudonyms; drop every direct identifier."""
    table = RAW_TABLES[name]
    drop = set(table.personal) | {c for c in t.columns if c.endswith("_bidx")}
    drop |= {c.name for c in table.columns if c.type is ColumnType.JSON}
    drop |= {c for t_name, c in _FREE_TEXT if t_name == name}
    if "source_member_key" in t.columns:
        mm = warehouse.table("member_map")
        t = t.left_join(
            mm.select("source", "source_member_key", "member_id"), ["source", "source_member_key"]
        )
        t = t.drop(*[c for c in t.columns if c.endswith("_right")])
        # A row whose member is unknown (an orphan) keeps its own source key as identity.
        who = t.member_id.fill_null(t.source.concat(":", t.source_member_key))
        t = t.mutate(**{PSEUDONYM: _hashed(salt, who)})
        drop |= {"source_member_key", "member_id"}
    if "anonymous_id" in t.columns:
        t = t.mutate(anonymous_id=_hashed(salt, t.anonymous_id))
    keep = [c for c in t.columns if c not in drop]
    if PSEUDONYM in keep:
        keep = [PSEUDONYM] + [c for c in keep if c != PSEUDONYM]
    return t.select(keep)


def _hashed(salt: str, value: ir.StringValue) -> ir.StringValue:
    return (ibis.literal(salt) + value).hexdigest("sha256").substr(0, 16)


def _quasi(t: ir.Table, asked: tuple[str, ...] | None) -> tuple[str, ...]:
    if asked is None:
        return tuple(c for c in DEFAULT_QUASI if c in t.columns)
    missing = [c for c in asked if c not in t.columns]
    if missing:
        raise UsageError(
            f"quasi-identifier(s) {', '.join(missing)} are not in the extract; "
            f"choose among: {', '.join(t.columns)}"
        )
    return asked


def _group_sizes(t: ir.Table, quasi: tuple[str, ...]) -> ir.Table:
    """``t`` with ``_group_size``: members (or rows) sharing the row's quasi-identifiers."""
    parts = [t[c].cast("string").fill_null("\x1e") for c in quasi]
    keyed = t.mutate(**{_GROUP: ibis.literal("\x1f").join(parts)})
    counted = keyed[PSEUDONYM].nunique() if PSEUDONYM in t.columns else keyed.count()
    sizes = keyed.group_by(_GROUP).agg(_group_size=counted)
    return keyed.inner_join(sizes, _GROUP).drop(_GROUP)


def generalise(
    warehouse: Warehouse, t: ir.Table, quasi: tuple[str, ...], k_target: int
) -> tuple[ir.Table, dict[str, int]]:
    """Local recoding of the location: city -> region, then city and region -> ``*``,
    for rows whose group is smaller than ``k_target``; return counts per level."""
    counts: dict[str, int] = {}
    if "city" not in quasi:
        return t, counts
    steps: list[tuple[str, dict[str, Any]]] = []
    if "region" in t.columns:
        steps.append(("city_to_region", {"city": lambda r: r.region.fill_null(SUPPRESSED)}))
    location = {"city": lambda _r: ibis.literal(SUPPRESSED)}
    if "region" in t.columns:
        location["region"] = lambda _r: ibis.literal(SUPPRESSED)
    steps.append(("location_suppressed", location))
    for label, replacements in steps:
        sized = _group_sizes(t, quasi)
        small = sized._group_size < k_target
        counts[label] = int(warehouse.to_pyarrow(sized.filter(small).count()).as_py())
        t = sized.mutate(
            **{
                col: ibis.ifelse(small, make(sized), sized[col])
                for col, make in replacements.items()
            }
        ).drop("_group_size")
    return t, counts


def smallest_group(warehouse: Warehouse, t: ir.Table, quasi: tuple[str, ...]) -> int | None:
    """The smallest number of members (rows, without member ids) sharing one
    combination of the quasi-identifiers: the extract's *k*. ``None`` when empty."""
    if not quasi:
        return None
    sized = _group_sizes(t, quasi)
    value = warehouse.to_pyarrow(sized._group_size.min()).as_py()
    return int(value) if value is not None else None
