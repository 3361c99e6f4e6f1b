"""Compile a mapping and the canonical schema into one vectorised SQL pass.

For each target table the staged text columns become typed canonical columns, and
every check of the schema (type, required, allowed values, e-mail, phone, ranges)
becomes a SQL condition with a message a person can act on. Nothing is evaluated
row by row in Python; personal values are quoted masked in messages.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import NoReturn

from memberlens.core.errors import ConfigError
from memberlens.ingest._mapping import ColumnSpec, Mapping
from memberlens.privacy import PHONE_NOISE
from memberlens.schema import (
    AGE_BANDS,
    RAW_TABLES,
    REFUND_STATUSES,
    Check,
    Column,
    ColumnType,
    Table,
)
from memberlens.store import q, sql_type

ID_COLUMNS = ("event_id", "feedback_id", "touch_id", "order_id")
JSON_COLUMNS = {"members": "attributes", "events": "properties", "feedback": "properties"}
EMAIL_RE = r"^[^@\s]+@[^@\s]+\.[^@\s.]+$"
Q = "'"  # quotes around a value quoted in a message
_OFFSET_RE = r"\d[T ]\d.*([zZ]|[+-]\d\d(:?\d\d)?)$"


def lit(value: str) -> str:
    """A SQL string literal (quotes doubled; never user text spliced raw)."""
    return "'" + value.replace("'", "''") + "'"


def phone_sql(raw: str) -> str:
    """E.164 form of ``raw`` or NULL: the SQL twin of ``privacy.normalise_phone``."""
    s = f"regexp_replace({raw}, '{PHONE_NOISE}', '', 'g')"
    s = f"(CASE WHEN starts_with({s}, '00') THEN '+' || substr({s}, 3) ELSE {s} END)"
    return (
        f"(CASE WHEN regexp_full_match({s}, '\\+861[3-9]\\d{{9}}') THEN {s} "
        f"WHEN regexp_full_match({s}, '1[3-9]\\d{{9}}') THEN '+86' || {s} "
        f"WHEN regexp_full_match({s}, '\\+[1-9]\\d{{6,14}}') THEN {s} END)"
    )


def mask_sql(raw: str, kind: str) -> str:
    """The SQL twin of ``privacy.mask`` for quoting personal values in messages."""
    if kind == "email":
        return (
            f"(CASE WHEN contains({raw}, '@') THEN left({raw}, 1) || '***@' || "
            f"split_part({raw}, '@', -1) ELSE left({raw}, 1) || '***' END)"
        )
    if kind == "phone":
        return f"(CASE WHEN length({raw}) <= 7 THEN repeat('*', length({raw})) ELSE left({raw}, 3) || repeat('*', length({raw}) - 7) || right({raw}, 4) END)"  # noqa: E501
    return f"(left({raw}, 1) || '***')"


@dataclass(frozen=True)
class Plan:
    """The SQL that validates one target table, and what the mapping left unused."""

    table: Table
    sql: str
    unused: list[str]
    json_filled: bool


def resolve_specs(
    table: Table, mapping: Mapping, staged: list[str], source: str | None
) -> dict[str, ColumnSpec]:
    """Decide where each canonical column comes from: mapping, same name, or default."""
    explicit = mapping.tables.get(table.name, {})
    by_lower = {c.lower(): c for c in staged}
    out: dict[str, ColumnSpec] = {}
    for name in [c.name for c in table.columns if not c.derived] + list(table.identifier_columns):
        if name in explicit:
            out[name] = explicit[name]
        elif name == "source" and (source or mapping.source):
            out[name] = ColumnSpec(const=source or mapping.source)
        elif name in by_lower:
            out[name] = ColumnSpec(column=by_lower[name])
        elif name in ID_COLUMNS and name in table.key:
            out[name] = ColumnSpec(row_id=True)
        elif name == "source":
            out[name] = ColumnSpec(const="default")
    return out


def needs_row_id(mapping: Mapping, staged: list[str], targets: list[str]) -> bool:
    """Whether any target column takes the source row's identity (``row_id``)."""
    return any(
        spec.row_id
        for name in targets
        for spec in resolve_specs(RAW_TABLES[name], mapping, staged, None).values()
    )


def used_columns(specs: dict[str, ColumnSpec]) -> set[str]:
    used: set[str] = set()
    for spec in specs.values():
        if spec.column:
            used.add(spec.column)
        used.update(spec.template_fields)
    return used


def _raw_expr(name: str, spec: ColumnSpec, specs: dict[str, ColumnSpec], staged: set[str]) -> str:
    if spec.column is not None:
        _need(spec.column, staged, name)
        expr = f"nullif(trim({q(spec.column)}), '')"
    elif spec.const is not None:
        expr = lit(spec.const)
    elif spec.template is not None:
        fields = spec.template_fields
        for f in fields:
            _need(f, staged, name)
        pieces, rest = [], spec.template
        for f in fields:
            before, _, rest = rest.partition("{" + f + "}")
            pieces += [lit(before), f"trim({q(f)})"]
        pieces.append(lit(rest))
        nulls = " OR ".join(f"nullif(trim({q(f)}), '') IS NULL" for f in fields) or "false"
        expr = f"(CASE WHEN {nulls} THEN NULL ELSE concat({', '.join(pieces)}) END)"
    elif spec.row_id:
        expr = "_src_key"
    else:
        target = spec.sequence_within or ""
        if target not in specs or specs[target].sequence_within:
            raise_config(f"{name}: sequence_within names '{target}', which is not mapped")
        inner = _raw_expr(target, specs[target], specs, staged)
        expr = f"CAST(row_number() OVER (PARTITION BY {inner} ORDER BY _line) AS VARCHAR)"
    if spec.map:
        cases = " ".join(f"WHEN {lit(k)} THEN {lit(v)}" for k, v in spec.map.items())
        expr = f"(CASE {expr} {cases} ELSE {expr} END)"
    if spec.default is not None:
        expr = f"coalesce({expr}, {lit(spec.default)})"
    return expr


def raise_config(message: str) -> NoReturn:
    raise ConfigError(f"mapping: {message}")


def _need(column: str, staged: set[str], target: str) -> None:
    if column not in staged:
        raise_config(
            f"{target} reads source column '{column}', which the file does not have "
            f"(it has: {', '.join(sorted(staged))})"
        )


def _typed(col: Column, r: str, spec: ColumnSpec | None, tz: str) -> str:
    fmt = spec.format if spec else None
    t = col.type
    if col.check is Check.EMAIL:
        return f"lower({r})"
    if col.check is Check.PHONE:
        return phone_sql(r)
    if t is ColumnType.STRING:
        return f"lower({r})" if col.allowed else r
    if t is ColumnType.INTEGER:
        return f"TRY_CAST({r} AS BIGINT)"
    if t is ColumnType.DECIMAL:
        return f"TRY_CAST({r} AS DECIMAL(18,2))"
    if t is ColumnType.FLOAT:
        return f"TRY_CAST({r} AS DOUBLE)"
    if t is ColumnType.BOOLEAN:
        return (
            f"(CASE WHEN lower({r}) IN ('true','t','1','yes','y') THEN true "
            f"WHEN lower({r}) IN ('false','f','0','no','n') THEN false END)"
        )
    if t is ColumnType.DATE:
        return f"CAST(try_strptime({r}, {lit(fmt)}) AS DATE)" if fmt else f"TRY_CAST({r} AS DATE)"
    if t is ColumnType.TIMESTAMP:
        return _timestamp(r, fmt, tz)
    # A JSON object only (arrays and scalars are refused, as the API refuses them).
    obj = f"(CASE WHEN json_type({r}) = 'OBJECT' THEN {r} END)"
    return f"(CASE WHEN json_valid({r}) THEN {obj} END)"


def _timestamp(r: str, fmt: str | None, tz: str) -> str:
    """UTC timestamp from ISO text (offset honoured), a strptime format, or Unix time."""
    if fmt in ("unix", "unix_ms"):
        div = "1000.0" if fmt == "unix_ms" else "1"
        v = f"(TRY_CAST({r} AS DOUBLE) / {div})"
        return f"(CASE WHEN {v} BETWEEN -1e10 AND 1e11 THEN timezone('UTC', to_timestamp({v})) END)"
    local = f"try_strptime({r}, {lit(fmt)})" if fmt else f"TRY_CAST({r} AS TIMESTAMP)"
    naive = f"timezone('UTC', timezone({lit(tz)}, {local}))"
    if fmt:
        return naive
    aware = f"timezone('UTC', TRY_CAST({r} AS TIMESTAMPTZ))"
    return f"(CASE WHEN regexp_matches({r}, {lit(_OFFSET_RE)}) THEN {aware} ELSE {naive} END)"


def _type_hint(col: Column, spec: ColumnSpec | None) -> str:
    fmt = spec.format if spec else None
    if col.type in (ColumnType.TIMESTAMP, ColumnType.DATE):
        if fmt:
            return f"expected {fmt} as the mapping says"
        example = "2024-05-01" if col.type is ColumnType.DATE else "2024-05-01T10:00:00+08:00"
        return f"expected ISO 8601 like {example}; set `format` in the mapping"
    return {
        ColumnType.INTEGER: "expected a whole number",
        ColumnType.DECIMAL: "expected a number like 12.50",
        ColumnType.FLOAT: "expected a number",
        ColumnType.BOOLEAN: "expected true or false",
        ColumnType.JSON: "expected a JSON object",
    }.get(col.type, "")


def _say(name: str, value_sql: str, text: str, *, quoted: bool = True) -> str:
    """SQL for the message ``name: 'value' text`` (value quoted unless a number)."""
    q_ = Q if quoted else ""
    return f"{lit(name + ': ' + q_)} || {value_sql} || {lit(q_ + ' ' + text)}"


_PHONE_HINT = (
    "is not a phone number (expected a mainland 11-digit mobile, or E.164: + and country code)"
)
_MAP_HINT = "(translate it with `map` in the mapping)"


def _checks(
    table: Table,
    col: Column,
    r: str,
    v: str,
    spec: ColumnSpec | None,
    today: date,
    has_status: bool,
) -> list[tuple[str, str]]:
    """(condition, message) pairs for one column; conditions are true for bad rows."""
    name = col.name
    kind = col.check.value if col.check in (Check.EMAIL, Check.PHONE) else "text"
    shown = mask_sql(r, kind) if col.personal else f"left({r}, 80)"
    out: list[tuple[str, str]] = []
    if col.required:
        out.append(
            (f"{r} IS NULL", lit(f"{name} is required but empty (map a source column to it)"))
        )
    if col.check is Check.EMAIL:
        bad = f"{r} IS NOT NULL AND NOT regexp_full_match({v}, {lit(EMAIL_RE)})"
        return [*out, (bad, _say(name, shown, "is not an e-mail address"))]
    if col.check is Check.PHONE:
        return [*out, (f"{r} IS NOT NULL AND {v} IS NULL", _say(name, shown, _PHONE_HINT))]
    if col.type is not ColumnType.STRING:
        text = f"is not a valid {col.type.value} ({_type_hint(col, spec)})"
        out.append((f"{r} IS NOT NULL AND {v} IS NULL", _say(name, shown, text)))
    if col.allowed:
        allowed = ", ".join(lit(a) for a in col.allowed)
        text = f"is not one of {', '.join(col.allowed)} {_MAP_HINT}"
        out.append((f"{v} IS NOT NULL AND {v} NOT IN ({allowed})", _say(name, shown, text)))
    return out + _range_checks(col, v, today, has_status)


def _range_checks(col: Column, v: str, today: date, has_status: bool) -> list[tuple[str, str]]:
    name, number = col.name, f"CAST({v} AS VARCHAR)"
    if col.check is Check.NON_NEGATIVE:
        refund = ""
        if has_status:
            statuses = ", ".join(lit(s) for s in REFUND_STATUSES)
            refund = f" AND coalesce(lower(nullif(trim(r__status), '')), '') NOT IN ({statuses})"
        text = "is negative (only refunded or returned rows may be)"
        return [(f"{v} < 0{refund}", _say(name, number, text, quoted=False))]
    if col.check is Check.POSITIVE:
        return [(f"{v} <= 0", _say(name, number, "must be at least 1", quoted=False))]
    if col.check in (Check.RATING_1_5, Check.NPS_0_10):
        lo, hi = (1, 5) if col.check is Check.RATING_1_5 else (0, 10)
        text = f"is outside {lo}-{hi}"
        return [(f"{v} NOT BETWEEN {lo} AND {hi}", _say(name, number, text, quoted=False))]
    if col.check is Check.AGE_0_120:
        text = f"{name}: gives an age outside 0-120 (check the date and its format)"
        return [(f"{_age_sql(v, today)} NOT BETWEEN 0 AND 120", lit(text))]
    return []


def _age_sql(birth: str, today: date) -> str:
    t = lit(today.isoformat())
    return (
        f"(date_diff('year', {birth}, DATE {t}) - "
        f"CASE WHEN strftime({birth}, '%m-%d') > {lit(today.strftime('%m-%d'))} THEN 1 ELSE 0 END)"
    )


def _age_band_sql(birth: str, today: date) -> str:
    age = _age_sql(birth, today)
    bounds = [
        (18, AGE_BANDS[0]),
        (25, AGE_BANDS[1]),
        (35, AGE_BANDS[2]),
        (45, AGE_BANDS[3]),
        (55, AGE_BANDS[4]),
        (65, AGE_BANDS[5]),
    ]
    cases = " ".join(f"WHEN {age} < {b} THEN {lit(band)}" for b, band in bounds)
    return f"(CASE WHEN {birth} IS NULL THEN NULL {cases} ELSE {lit(AGE_BANDS[6])} END)"


def compile_table(
    table: Table,
    mapping: Mapping,
    staged: list[str],
    *,
    source: str | None,
    tz: str,
    today: date,
    stage: str = "stg",
) -> Plan:
    """Return the SELECT that types and validates ``table``'s rows from ``stage``."""
    specs = resolve_specs(table, mapping, staged, source)
    staged_set = set(staged)
    json_col = JSON_COLUMNS.get(table.name)
    unused = sorted(staged_set - used_columns(specs), key=staged.index)
    json_filled = bool(json_col and json_col not in specs and unused)
    raws = {n: _raw_expr(n, s, specs, staged_set) for n, s in specs.items()}
    if json_filled and json_col:
        pairs = ", ".join(f"{lit(c)}, {q(c)}" for c in unused)
        raws[json_col] = f"CAST(json_object({pairs}) AS VARCHAR)"
    typed, conds = _typed_columns(table, specs, raws, tz=tz, today=today)
    raw_cols = ", ".join(f"{e} AS {q('r__' + n)}" for n, e in raws.items())
    reason = ", ".join(f"CASE WHEN {c} THEN {m} END" for c, m, _ in conds) or "NULL"
    bad_col = ", ".join(f"CASE WHEN {c} THEN {lit(n)} END" for c, _, n in conds) or "NULL"
    canonical = ", ".join(q(c.name) for c in table.columns if not c.derived)
    sql = (
        f"WITH raw AS (SELECT _line, _src_key, {raw_cols} FROM {stage}), "
        f"typed AS (SELECT *, {', '.join(typed)} FROM raw) "
        f"SELECT _line, _src_key, {canonical}{_derived(table, today)}"
        f"{_ident_select(table, raws)}, nullif(concat_ws('; ', {reason}), '') AS _reason, "
        f"coalesce({bad_col}) AS _bad_column FROM typed"
    )
    return Plan(table=table, sql=sql, unused=[] if json_filled else unused, json_filled=json_filled)


def _typed_columns(
    table: Table, specs: dict[str, ColumnSpec], raws: dict[str, str], *, tz: str, today: date
) -> tuple[list[str], list[tuple[str, str, str]]]:
    """Typed select items and (condition, message, column) checks for every column."""
    typed: list[str] = []
    conds: list[tuple[str, str, str]] = []
    for col in (c for c in table.columns if not c.derived):
        if col.name not in raws:
            if col.required:
                text = f"{col.name} is required but the file has no such column (map one to it)"
                conds.append(("true", lit(text), col.name))
            typed.append(f"CAST(NULL AS {sql_type(col.type)}) AS {q(col.name)}")
            continue
        r, spec = q("r__" + col.name), specs.get(col.name)
        typed.append(f"{_typed(col, r, spec, tz)} AS {q(col.name)}")
        # Checks read the typed column by name: each value is parsed once, not per check.
        checks = _checks(table, col, r, q(col.name), spec, today, "status" in raws)
        conds += [(c, m, col.name) for c, m in checks]
    typed += [
        f"{q('r__' + i)} AS {q('_ident_' + i)}" for i in table.identifier_columns if i in raws
    ]
    if table.name == "events":
        text = "the event has neither source_member_key nor anonymous_id"
        conds.append(
            ("source_member_key IS NULL AND anonymous_id IS NULL", lit(text), "source_member_key")
        )
    return typed, conds


def _ident_select(table: Table, raws: dict[str, str]) -> str:
    return "".join(f", {q('_ident_' + i)}" for i in table.identifier_columns if i in raws)


def _derived(table: Table, today: date) -> str:
    if table.name != "members":
        return ""
    return (
        ", strftime(birth_date, '%m-%d') AS birth_md"
        f", {_age_band_sql('birth_date', today)} AS age_band"
        ", CAST(NULL AS VARCHAR) AS email_bidx, CAST(NULL AS VARCHAR) AS phone_bidx"
    )
