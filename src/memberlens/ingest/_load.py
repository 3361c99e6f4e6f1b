"""One import, all or nothing: stage, validate, quarantine, version, load.

Row identity follows DESIGN: the natural key where the table has one, else a
content hash plus the row's occurrence index within the file, so two identical
real purchases in one file stay two rows and a re-import adds nothing. Same key
with new content replaces the row and moves the previous version to the table's
``_history`` twin. Everything after staging runs in one warehouse transaction: a
process killed half way leaves no partial rows, and Ctrl-C says that nothing was loaded.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import duckdb

from memberlens.core.clock import utc_now
from memberlens.core.errors import Interrupted
from memberlens.core.ids import new_run_id
from memberlens.ingest._columns import check_columns
from memberlens.ingest._compile import compile_table, lit, needs_row_id
from memberlens.ingest._mapping import Mapping
from memberlens.ingest._personal import encrypt_members, encrypt_quarantine
from memberlens.ingest._readers import STAGE, Staged, stage_file
from memberlens.ingest.contracts import IngestResult, TableCounts
from memberlens.privacy import KeyRing
from memberlens.schema import RAW_TABLES, Table
from memberlens.store import META_COLUMNS, Warehouse, q

Progress = Callable[[str], None]
_SEP = "chr(31)"


@dataclass(frozen=True)
class IngestRequest:
    kind: str
    path: Path
    mapping: Mapping
    source: str | None = None
    timezone: str = "UTC"
    encoding: str | None = None  # overrides the mapping's read.encoding (--encoding)


def ingest_file(
    warehouse: Warehouse,
    keyring: KeyRing,
    request: IngestRequest,
    progress: Progress | None = None,
) -> IngestResult:
    """Import one file into the canonical tables; see the module docstring.

    Raises
    ------
    Interrupted
        On Ctrl-C, saying whether anything was loaded (before the commit, nothing was).
    """
    run_id = new_run_id("ing")
    try:
        return _ingest(warehouse, keyring, request, run_id, progress)
    except BaseException as exc:
        if not _is_interrupt(exc):
            raise
        raise _interrupted(warehouse, request, run_id) from None


def _is_interrupt(exc: BaseException) -> bool:
    """Ctrl-C, as Python raises it, or as DuckDB does for the query it stopped on the
    signal: a ``RuntimeError('Query interrupted')`` (DuckDB 1.5's Python client) or an
    ``InterruptException``."""
    if isinstance(exc, KeyboardInterrupt | duckdb.InterruptException):
        return True
    return isinstance(exc, RuntimeError) and "interrupted" in str(exc).lower()


def _interrupted(warehouse: Warehouse, request: IngestRequest, run_id: str) -> Interrupted:
    """What to say after Ctrl-C: the run is recorded in the load transaction, so its
    absence proves that nothing was loaded (an interrupted transaction rolls back)."""
    try:
        loaded = bool(
            warehouse.scalar("SELECT count(*) FROM ingest_runs WHERE run_id = ?", [run_id])
        )
    except (duckdb.Error, RuntimeError):
        return Interrupted(
            f"import of {request.path} interrupted; see `memberlens quality` for what was loaded"
        )
    if loaded:
        return Interrupted(f"import interrupted after {request.path} was loaded (run {run_id})")
    return Interrupted(
        f"import interrupted, nothing was loaded from {request.path}; "
        "run the same command again to import it"
    )


def _ingest(
    warehouse: Warehouse,
    keyring: KeyRing,
    request: IngestRequest,
    run_id: str,
    progress: Progress | None,
) -> IngestResult:
    step = progress or (lambda _stage: None)
    started = time.perf_counter()
    now = utc_now().replace(tzinfo=None, microsecond=0)
    primary, targets = request.mapping.targets(request.kind)
    con = warehouse.native
    con.execute("SET TimeZone = 'UTC'")

    step("read")
    staged = stage_file(con, request.path, request.mapping.read, encoding=request.encoding)
    check_columns(request.path, request.mapping, staged.columns, targets, request.source)
    _add_source_keys(
        warehouse, staged, hashed=needs_row_id(request.mapping, staged.columns, targets)
    )

    step("validate")
    warnings = _validate(warehouse, request, staged, targets, now.date())
    personal = any(RAW_TABLES[t].has_personal for t in targets)

    step("load")
    with warehouse.transaction():
        quarantined = _quarantine(
            warehouse, keyring, run_id, request, staged, targets, now, personal
        )
        counts: dict[str, TableCounts] = {}
        dups = orphans = 0
        flags: dict[str, int] = {}
        for name in targets:
            table = RAW_TABLES[name]
            _prepare_good(warehouse, keyring, table)
            tc, d, f = _apply(
                warehouse, table, run_id, now, request.mapping, primary=name == primary
            )
            counts[name] = tc
            if name == primary:
                dups, flags = d, f
                orphans = f.pop("orphan", 0)
            _map_members(warehouse, table, now)
        read = staged.rows + len(staged.rejected)
        loaded = read - quarantined - dups
        result = IngestResult(
            run_id=run_id,
            kind=request.kind,
            file=str(request.path),
            mapping=request.mapping.name,
            read=read,
            loaded=loaded,
            updated=counts[primary].updated,
            quarantined=quarantined,
            duplicates=dups,
            orphans=orphans,
            flags=flags,
            tables=counts,
            warnings=warnings,
            seconds=round(time.perf_counter() - started, 3),
            encoding=staged.encoding,
        )
        _record_run(warehouse, result, request, now)
    _drop_temps(warehouse, targets)
    return result


def _add_source_keys(warehouse: Warehouse, staged: Staged, *, hashed: bool) -> None:
    """Each staged row's identity.

    With ``hashed`` (a mapping or a table needs the row identity, DESIGN): content hash
    of its fields + occurrence index, stable across re-imports. Otherwise the line
    number suffices, since the natural key identifies the row.
    """
    _drop(warehouse, "stg")
    if not hashed:
        # A view, not a copy: it is read only twice (validation, quarantine).
        warehouse.execute(
            f"CREATE TEMP VIEW stg AS SELECT *, CAST(_line AS VARCHAR) AS _src_key FROM {STAGE}"
        )
        return
    fields = ", ".join(f"coalesce({q(c)}, chr(0))" for c in staged.columns)
    digest = f"md5(concat_ws({_SEP}, {fields}))"
    warehouse.execute(
        f"CREATE TEMP TABLE stg AS SELECT *, 'h' || left(_h, 24) || '.' || "
        f"CAST(row_number() OVER (PARTITION BY _h ORDER BY _line) AS VARCHAR) AS _src_key "
        f"FROM (SELECT *, {digest} AS _h FROM {STAGE})"
    )
    warehouse.execute(f"DROP TABLE {STAGE}")


def _validate(
    warehouse: Warehouse,
    request: IngestRequest,
    staged: Staged,
    targets: list[str],
    today: date,
) -> list[str]:
    """Type and check every target table in SQL; collect the source rows that fail."""
    warnings: list[str] = []
    unions = []
    for name in targets:
        plan = compile_table(
            RAW_TABLES[name],
            request.mapping,
            staged.columns,
            source=request.source,
            tz=request.mapping.read.timezone or request.timezone,
            today=today,
        )
        warehouse.execute(f"CREATE OR REPLACE TEMP TABLE v_{name} AS {plan.sql}")
        unions.append(
            f"SELECT _src_key, _line, {lit(name)} AS table_name, _bad_column, _reason "
            f"FROM v_{name} WHERE _reason IS NOT NULL"
        )
        if plan.unused and len(targets) == 1:
            warnings.append(
                f"columns {', '.join(plan.unused)} are not part of {name} and were not "
                "loaded; map them in a mapping file if they matter"
            )
    warehouse.execute(
        "CREATE OR REPLACE TEMP TABLE bad AS SELECT _src_key, min(_line) AS _line, "
        "first(_bad_column ORDER BY table_name) AS column_name, "
        "string_agg(_reason, '; ' ORDER BY table_name) AS reason "
        f"FROM ({' UNION ALL '.join(unions)}) GROUP BY _src_key"
    )
    return warnings


def _quarantine(
    warehouse: Warehouse,
    keyring: KeyRing,
    run_id: str,
    request: IngestRequest,
    staged: Staged,
    targets: list[str],
    now: datetime,
    personal: bool,
) -> int:
    """Move unreadable lines and failing rows to ``quarantine``; return how many."""
    pairs = ", ".join(f"{lit(c)}, s.{q(c)}" for c in staged.columns)
    warehouse.execute(
        "CREATE OR REPLACE TEMP TABLE q_rows AS SELECT b._line AS line, b.column_name, "
        f"b.reason, CAST(json_object({pairs}) AS VARCHAR) AS raw "
        "FROM bad b JOIN stg s USING (_src_key)"
    )
    if staged.rejected:
        warehouse.native.executemany(
            "INSERT INTO q_rows VALUES (?, NULL, ?, ?)",
            [[r.line, r.reason, r.raw] for r in staged.rejected],
        )
    count = int(warehouse.scalar("SELECT count(*) FROM q_rows"))
    if count and personal:
        encrypt_quarantine(warehouse, keyring)
    warehouse.execute(
        "INSERT INTO quarantine SELECT ?, ?, ?, line, column_name, reason, raw, ?, ? "
        "FROM q_rows ORDER BY line",
        [run_id, "+".join(targets), str(request.path), personal, now],
    )
    return count


def _prepare_good(warehouse: Warehouse, keyring: KeyRing, table: Table) -> None:
    """Rows that passed, with their key and content hash; personal columns encrypted."""
    key = f"concat_ws({_SEP}, {', '.join(f'CAST({q(k)} AS VARCHAR)' for k in table.key)})"
    content = ", ".join(
        f"coalesce(CAST({q(c.name)} AS VARCHAR), chr(0))"
        for c in table.columns
        if not c.derived or c.name in ("birth_md", "age_band")
    )
    warehouse.execute(
        f"CREATE OR REPLACE TEMP TABLE g_{table.name} AS SELECT v.* EXCLUDE (_reason, "
        f"_bad_column), {key} AS _row_key, md5(concat_ws({_SEP}, {content})) AS _content_hash "
        f"FROM v_{table.name} v ANTI JOIN bad USING (_src_key)"
    )
    if table.has_personal:
        encrypt_members(warehouse, keyring, table)


def _flags_sql(table: Table, mapping: Mapping, primary: bool) -> str:
    parts = []
    if table.member_keyed and table.name != "members":
        parts.append("CASE WHEN c.source_member_key IS NOT NULL AND NOT c._known THEN 'orphan' END")
    if table.name == "order_items":
        parts.append("CASE WHEN NOT c._known THEN 'orphan' END")
    if primary and mapping.window and table.time_column:
        col = f"c.{q(table.time_column)}"
        parts.append(
            f"CASE WHEN {col} < TIMESTAMP {lit(mapping.window.start)} OR {col} >= "
            f"TIMESTAMP {lit(mapping.window.end)} THEN 'out_of_window' END"
        )
    return f"nullif(concat_ws(',', {', '.join(parts)}), '')" if parts else "NULL"


def _known_parent_join(table: Table) -> tuple[str, str]:
    """LEFT JOIN giving ``_known``: whether a row's member is registered, or an order
    line's order exists (one hash join, not a correlated look-up per row). Orders of
    this very import are already in ``orders``: parents load first."""
    if table.name == "order_items":
        return (
            ", k._known IS NOT NULL AS _known",
            " LEFT JOIN (SELECT DISTINCT source, order_id, true AS _known FROM orders) k "
            "ON k.source = g.source AND k.order_id = g.order_id",
        )
    if not table.member_keyed or table.name == "members":
        return ", true AS _known", ""
    return (
        ", k._known IS NOT NULL AS _known",
        " LEFT JOIN (SELECT DISTINCT source, source_member_key, true AS _known FROM ("
        "SELECT source, source_member_key FROM members UNION ALL "
        "SELECT source, source_member_key FROM g_members_keys)) k "
        "ON k.source = g.source AND k.source_member_key = g.source_member_key",
    )


def _apply(
    warehouse: Warehouse,
    table: Table,
    run_id: str,
    now: datetime,
    mapping: Mapping,
    *,
    primary: bool,
) -> tuple[TableCounts, int, dict[str, int]]:
    """Version and insert the good rows of ``table``; return counts, duplicates, flags."""
    t, g = table.name, f"g_{table.name}"
    _member_keys(warehouse)
    known, join = _known_parent_join(table)
    warehouse.execute(
        f"CREATE OR REPLACE TEMP TABLE c_{t} AS SELECT g.*, "
        "row_number() OVER w AS _rank, first_value(g._content_hash) OVER w AS _last_hash, "
        f"e._content_hash AS _old_hash, e._row_key IS NOT NULL AS _exists{known} "
        f"FROM {g} g LEFT JOIN {q(t)} e USING (_row_key){join} "
        "WINDOW w AS (PARTITION BY g._row_key ORDER BY g._line DESC)"
    )
    cols = ", ".join(q(c.name) for c in table.columns)
    stamp = f"TIMESTAMP {lit(now.isoformat(sep=' '))}"
    meta = (
        f"c._row_key, c._content_hash, {lit(run_id)}, c._line, {stamp}, "
        f"{_flags_sql(table, mapping, primary)}"
    )
    changed = (
        f"SELECT _row_key FROM c_{t} WHERE _rank = 1 AND _exists AND _old_hash <> _content_hash"
    )
    warehouse.execute(
        f"INSERT INTO {q(t + '_history')} SELECT e.*, {stamp}, {lit(run_id)} FROM {q(t)} e "
        f"WHERE _row_key IN ({changed})"
    )
    warehouse.execute(f"DELETE FROM {q(t)} WHERE _row_key IN ({changed})")
    meta_names = ", ".join(q(n) for n, _ in META_COLUMNS)
    warehouse.execute(
        f"INSERT INTO {q(t)} ({cols}, {meta_names}) SELECT {_prefixed(table)}, {meta} "
        f"FROM c_{t} c WHERE _rank = 1 AND (NOT _exists OR _old_hash <> _content_hash)"
    )
    # Earlier versions of a key within this very file: kept as history, not lost.
    warehouse.execute(
        f"INSERT INTO {q(t + '_history')} SELECT {_prefixed(table)}, {meta}, {stamp}, "
        f"{lit(run_id)} FROM c_{t} c WHERE _rank > 1 AND _content_hash <> _last_hash"
    )
    (inserted, updated, unchanged, dups) = warehouse.execute(
        f"""SELECT count(*) FILTER (_rank = 1 AND NOT _exists),
                   count(*) FILTER (_rank = 1 AND _exists AND _old_hash <> _content_hash),
                   count(*) FILTER (_rank = 1 AND _exists AND _old_hash = _content_hash),
                   count(*) FILTER ((_rank = 1 AND _exists AND _old_hash = _content_hash)
                                    OR (_rank > 1 AND _content_hash = _last_hash))
            FROM c_{t}"""
    ).fetchone() or (0, 0, 0, 0)
    flags = dict(
        warehouse.fetch_all(
            f"SELECT flag, count(*) FROM (SELECT unnest(string_split(_flags, ',')) AS flag "
            f"FROM {q(t)} WHERE _run_id = ? AND _flags IS NOT NULL) GROUP BY flag",
            [run_id],
        )
    )
    return TableCounts(inserted, updated, unchanged), dups, flags


def _prefixed(table: Table) -> str:
    return ", ".join(f"c.{q(c.name)}" for c in table.columns)


def _member_keys(warehouse: Warehouse) -> None:
    """Member keys arriving in this import (so their orders are not orphans)."""
    source = (
        "SELECT DISTINCT source, source_member_key FROM g_members"
        if _temp_exists(warehouse, "g_members")
        else "SELECT NULL::VARCHAR AS source, NULL::VARCHAR AS source_member_key WHERE false"
    )
    warehouse.execute(f"CREATE OR REPLACE TEMP TABLE g_members_keys AS {source}")


def _temp_exists(warehouse: Warehouse, name: str) -> bool:
    return bool(
        warehouse.scalar(
            "SELECT count(*) FROM duckdb_tables() WHERE temporary AND table_name = ?", [name]
        )
    )


def _map_members(warehouse: Warehouse, table: Table, now: datetime) -> None:
    """Give every new (source, source_member_key) a member id, one-to-one (DESIGN)."""
    if not table.member_keyed:
        return
    reason = "registered" if table.name == "members" else f"first_seen_in:{table.name}"
    warehouse.execute(
        "INSERT INTO member_map SELECT source, source_member_key, "
        f"'m_' || left(sha256(source || {_SEP} || source_member_key), 16), "
        f"TIMESTAMP {lit(now.isoformat(sep=' '))}, {lit(reason)} "
        f"FROM (SELECT DISTINCT source, source_member_key FROM c_{table.name} "
        "WHERE source_member_key IS NOT NULL) n "
        "ANTI JOIN member_map USING (source, source_member_key)"
    )


def _record_run(
    warehouse: Warehouse, result: IngestResult, request: IngestRequest, now: datetime
) -> None:
    digest = hashlib.sha256()
    with request.path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    warehouse.execute(
        "INSERT INTO ingest_runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            result.run_id,
            result.kind,
            result.file,
            digest.hexdigest(),
            result.mapping,
            now,
            utc_now().replace(tzinfo=None),
            result.read,
            result.loaded,
            result.updated,
            result.quarantined,
            result.duplicates,
            result.orphans,
            json.dumps({k: v.__dict__ for k, v in result.tables.items()}),
        ],
    )


def _drop_temps(warehouse: Warehouse, targets: list[str]) -> None:
    names = ["stg", STAGE, "bad", "q_rows", "g_members_keys", "stg_rej"]
    for t in targets:
        names += [f"v_{t}", f"g_{t}", f"c_{t}"]
    for name in names:
        _drop(warehouse, name)


def _drop(warehouse: Warehouse, name: str) -> None:
    """Drop a temporary table or view, whichever ``name`` is."""
    kind = warehouse.scalar(
        "SELECT 'VIEW' FROM duckdb_views() WHERE temporary AND view_name = ? UNION ALL "
        "SELECT 'TABLE' FROM duckdb_tables() WHERE temporary AND table_name = ?",
        [name, name],
    )
    if kind:
        warehouse.execute(f"DROP {kind} {name}")
