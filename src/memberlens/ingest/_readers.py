"""Reading source files into a staging table of text columns, losing nothing.

Every value is staged as text (types are checked later, in one vectorised pass),
every staged row keeps its line number, and every line the reader cannot split
into fields is returned as a rejected line for the quarantine. The CSV delimiter is
detected, and so is the encoding (``_encoding``: UTF-8 with or without BOM, UTF-16,
GBK/GB18030, Big5).
"""

from __future__ import annotations

import csv
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb

from memberlens.core.errors import InputError
from memberlens.ingest._encoding import check_codec, decode_error, detect_encoding
from memberlens.ingest._mapping import ReadSpec
from memberlens.store import q

STAGE = "stg_raw"
_CHUNK = 1 << 20
_SNIFF_DELIMITERS = ",;\t|"
_IS_OBJECT = "(CASE WHEN json_valid(line) THEN json_type(line) = 'OBJECT' ELSE false END)"


@dataclass(frozen=True)
class Rejected:
    """A line that could not be split into fields."""

    line: int
    reason: str
    raw: str


@dataclass(frozen=True)
class Staged:
    """What :func:`stage_file` put in the staging table."""

    columns: list[str]
    rows: int
    rejected: list[Rejected]
    format: str
    encoding: str


def detect_format(path: Path, declared: str) -> str:
    if declared != "auto":
        return declared
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return "parquet"
    if suffix in (".jsonl", ".ndjson", ".json"):
        return "jsonl"
    return "csv"


@contextmanager
def utf8_view(path: Path, encoding: str) -> Iterator[Path]:
    """Yield a UTF-8 path for ``path``: itself, or a private transcoded copy.

    The copy lives in the system temp folder (never the workspace: it may hold
    personal data in clear), readable by its owner only, and is removed after.
    """
    if encoding in ("utf-8", "utf-8-sig"):
        yield path
        return
    fd, tmp = tempfile.mkstemp(prefix="memberlens-", suffix=".csv")
    try:
        with (
            os.fdopen(fd, "w", encoding="utf-8", newline="") as out,
            path.open("r", encoding=encoding, newline="") as src,
        ):
            while chunk := src.read(_CHUNK):
                out.write(chunk)
        yield Path(tmp)
    finally:
        os.unlink(tmp)


def _declared(path: Path, encoding: str) -> str:
    """A declared encoding, checked over the whole file (a wrong one is not read as garbage)."""
    where = decode_error(path, check_codec(encoding))
    if where:
        raise InputError(
            f"{path} is not {encoding} text ({where}); pass the encoding it is in with "
            "--encoding, or leave the flag and read.encoding out to detect it"
        )
    return encoding


def sniff_delimiter(sample: str) -> str:
    try:
        return csv.Sniffer().sniff(sample, delimiters=_SNIFF_DELIMITERS).delimiter
    except csv.Error:
        return ","


def _head(path: Path, encoding: str, limit: int = 64 * 1024) -> str:
    with path.open("r", encoding=encoding, errors="replace", newline="") as fh:
        return fh.read(limit)


def stage_file(
    con: duckdb.DuckDBPyConnection, path: Path, spec: ReadSpec, *, encoding: str | None = None
) -> Staged:
    """Stage ``path`` into the temp table ``stg_raw`` (text columns + ``_line``).

    ``encoding`` (the ``--encoding`` flag) overrides the mapping's ``read.encoding``;
    ``auto`` detects it (``_encoding``)."""
    if not path.is_file():
        raise InputError(f"{path} does not exist or is not a file")
    if path.stat().st_size == 0:
        raise InputError(f"{path} is empty: not even a header line to read")
    fmt = detect_format(path, spec.format)
    con.execute(f"DROP TABLE IF EXISTS {STAGE}")
    if fmt == "parquet":
        return _stage_parquet(con, path, spec)
    declared = encoding or spec.encoding
    encoding = detect_encoding(path) if declared == "auto" else _declared(path, declared)
    with utf8_view(path, encoding) as readable:
        if fmt == "csv":
            staged = _stage_csv(con, readable, spec, encoding)
        else:
            staged = _stage_lines(con, readable, spec, fmt, encoding)
    return staged


def _header_names(path: Path, delimiter: str, encoding: str) -> list[str]:
    enc = "utf-8-sig" if encoding == "utf-8-sig" else "utf-8"
    with path.open("r", encoding=enc, newline="") as fh:
        first = next(csv.reader(fh, delimiter=delimiter), [])
    return [name.strip() for name in first]


def _names(spec: ReadSpec, found: list[str], path: Path) -> list[str]:
    if spec.columns is None:
        if not found or any(not n for n in found):
            raise InputError(
                f"{path}: the header line has empty column names; "
                "name the columns with read.columns in a mapping file"
            )
        return found
    if found and len(found) != len(spec.columns):
        raise InputError(
            f"{path}: the file has {len(found)} columns but the mapping names "
            f"{len(spec.columns)} ({', '.join(spec.columns)}); fix read.columns"
        )
    return list(spec.columns)


def _stage_csv(con: duckdb.DuckDBPyConnection, path: Path, spec: ReadSpec, encoding: str) -> Staged:
    delimiter = spec.delimiter or sniff_delimiter(_head(path, "utf-8"))
    found = _header_names(path, delimiter, encoding)
    names = _names(spec, found if spec.header else [], path)
    if not spec.header and spec.columns is None:
        names = [f"column{i}" for i in range(len(found))]
    columns = "{" + ", ".join(f"'{_lit(n)}': 'VARCHAR'" for n in names) + "}"
    header_lines = 1 if spec.header else 0
    try:
        _read_csv(con, path, delimiter, spec.header, columns, parallel=True)
    except duckdb.Error as exc:
        if "parallel=false" not in str(exc):
            raise InputError(f"{path}: cannot be read as CSV ({_first_line(exc)})") from exc
        # Quoted fields holding line breaks need the sequential reader.
        _read_csv(con, path, delimiter, spec.header, columns, parallel=False)
    rejected = [
        Rejected(int(line), _csv_reason(err, msg), raw or "")
        for line, err, msg, raw in con.execute(
            "SELECT line, error_type, error_message, csv_line FROM reject_errors ORDER BY line"
        ).fetchall()
    ]
    _number_lines(con, header_lines, [r.line for r in rejected])
    rows = con.execute(f"SELECT count(*) FROM {STAGE}").fetchone()[0]  # type: ignore[index]
    return Staged(names, rows, rejected, "csv", encoding)


def _read_csv(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    delimiter: str,
    header: bool,
    columns: str,
    *,
    parallel: bool,
) -> None:
    for table in ("reject_errors", "reject_scans", "stg_read"):
        con.execute(f"DROP TABLE IF EXISTS {table}")
    con.execute(
        f"""CREATE TEMP TABLE stg_read AS SELECT * FROM read_csv(?, delim=?, quote='"',
            escape='"', header={header}, columns={columns}, auto_detect=false,
            null_padding=true, store_rejects=true, max_line_size=8388608,
            parallel={parallel})""",
        [str(path), delimiter],
    )


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0]


def _csv_reason(error_type: str, message: str) -> str:
    first = (message or error_type).splitlines()[0]
    return f"the line cannot be split into fields ({error_type}: {first})"


def _number_lines(con: duckdb.DuckDBPyConnection, header: int, rejected: list[int]) -> None:
    """Give each staged row its 1-based file line, skipping rejected lines.

    Insertion order is preserved, so rowid ``i`` is the i-th accepted record; each
    rejected line before it shifts it down by one.
    """
    positions = [line - header - 1 - j for j, line in enumerate(sorted(set(rejected)))]
    con.execute("CREATE OR REPLACE TEMP TABLE stg_rej(p BIGINT)")
    if positions:
        con.executemany("INSERT INTO stg_rej VALUES (?)", [[p] for p in positions])
    shift = "(SELECT count(*) FROM stg_rej WHERE p <= s.rowid)" if positions else "0"
    con.execute(
        f"CREATE TEMP TABLE {STAGE} AS SELECT s.*, s.rowid + {header + 1} + {shift} AS _line "
        "FROM stg_read s"
    )
    con.execute("DROP TABLE stg_read")


def _stage_lines(
    con: duckdb.DuckDBPyConnection, path: Path, spec: ReadSpec, fmt: str, encoding: str
) -> Staged:
    """Whitespace-separated text or JSON Lines: read whole lines, then split in SQL."""
    con.execute(
        """CREATE TEMP TABLE stg_lines_read AS SELECT line FROM read_csv(?,
           delim=chr(1), quote='', escape='', header=false, columns={'line': 'VARCHAR'},
           auto_detect=false, null_padding=true, max_line_size=8388608)""",
        [str(path)],
    )
    con.execute(
        "CREATE TEMP TABLE stg_lines AS SELECT line, rowid + 1 AS _line FROM stg_lines_read; "
        "DROP TABLE stg_lines_read"
    )
    skip = 1 if (spec.header and fmt == "whitespace") else 0
    if fmt == "whitespace":
        return _split_whitespace(con, spec, skip, encoding, path)
    return _split_json(con, encoding, path)


def _split_whitespace(
    con: duckdb.DuckDBPyConnection, spec: ReadSpec, skip: int, encoding: str, path: Path
) -> Staged:
    if not spec.columns:
        raise InputError(f"{path}: whitespace-separated files need read.columns in the mapping")
    n = len(spec.columns)
    parts = "regexp_split_to_array(trim(line), '\\s+')"
    con.execute(
        f"""CREATE TEMP TABLE stg_split AS SELECT line, _line, {parts} AS f FROM stg_lines
            WHERE _line > {skip} AND trim(coalesce(line, '')) <> ''"""
    )
    rejected = [
        Rejected(int(line), f"the line has {len(f)} fields, expected {n}", raw)
        for raw, line, f in con.execute(
            f"SELECT line, _line, f FROM stg_split WHERE len(f) <> {n} ORDER BY _line"
        ).fetchall()
    ]
    cols = ", ".join(f"f[{i + 1}] AS {q(c)}" for i, c in enumerate(spec.columns))
    con.execute(
        f"CREATE TEMP TABLE {STAGE} AS SELECT {cols}, _line FROM stg_split "
        f"WHERE len(f) = {n} ORDER BY _line"
    )
    con.execute("DROP TABLE stg_split; DROP TABLE stg_lines")
    rows = con.execute(f"SELECT count(*) FROM {STAGE}").fetchone()[0]  # type: ignore[index]
    return Staged(list(spec.columns), rows, rejected, "whitespace", encoding)


def _split_json(con: duckdb.DuckDBPyConnection, encoding: str, path: Path) -> Staged:
    con.execute(
        "DELETE FROM stg_lines WHERE trim(coalesce(line, '')) = ''; "
        "UPDATE stg_lines SET line = ltrim(line, chr(65279))"
    )
    rejected = [
        Rejected(int(line), "the line is not a JSON object", raw)
        for raw, line in con.execute(
            f"SELECT line, _line FROM stg_lines WHERE NOT {_IS_OBJECT} ORDER BY _line"
        ).fetchall()
    ]
    keys = [
        k
        for (k,) in con.execute(
            "SELECT DISTINCT unnest(json_keys(line)) AS k FROM stg_lines "
            f"WHERE {_IS_OBJECT} ORDER BY k"
        ).fetchall()
    ]
    if not keys:
        raise InputError(f"{path}: no JSON object lines found; is this JSON Lines?")
    cols = ", ".join(f"json_extract_string(line, {_path_lit(k)}) AS {q(k)}" for k in keys)
    con.execute(
        f"CREATE TEMP TABLE {STAGE} AS SELECT {cols}, _line FROM stg_lines "
        f"WHERE {_IS_OBJECT} ORDER BY _line"
    )
    con.execute("DROP TABLE stg_lines")
    rows = con.execute(f"SELECT count(*) FROM {STAGE}").fetchone()[0]  # type: ignore[index]
    return Staged(keys, rows, rejected, "jsonl", encoding)


def _stage_parquet(con: duckdb.DuckDBPyConnection, path: Path, spec: ReadSpec) -> Staged:
    try:
        rel = con.execute("SELECT * FROM read_parquet(?) LIMIT 0", [str(path)])
    except duckdb.Error as exc:
        raise InputError(f"{path} is not a readable Parquet file: {exc}") from exc
    found = [d[0] for d in rel.description]
    names = _names(spec, found, path)
    cols = ", ".join(
        f"CAST({q(src)} AS VARCHAR) AS {q(dst)}" for src, dst in zip(found, names, strict=True)
    )
    con.execute(
        f"CREATE TEMP TABLE {STAGE} AS SELECT {cols}, file_row_number + 1 AS _line "
        "FROM read_parquet(?, file_row_number = true) ORDER BY file_row_number",
        [str(path)],
    )
    rows = con.execute(f"SELECT count(*) FROM {STAGE}").fetchone()[0]  # type: ignore[index]
    return Staged(names, rows, [], "parquet", "")


def _lit(text: str) -> str:
    return text.replace("'", "''")


def _path_lit(key: str) -> str:
    return "'$.\"" + key.replace("'", "''").replace('"', '\\"') + "\"'"
