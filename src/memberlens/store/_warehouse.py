"""The warehouse port: Ibis expressions over DuckDB (default), Spark or PostgreSQL.

Domains read tables as Ibis expressions (:meth:`Warehouse.table`) so the same code
runs on every engine. Bulk loading is engine-specific by nature and goes through
:meth:`Warehouse.execute` inside :meth:`Warehouse.transaction`.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import ibis
import pyarrow as pa

from memberlens.core.errors import WorkspaceError
from memberlens.store._ddl import warehouse_ddl

_LOCK_PID = re.compile(r"PID (\d+)")


class Warehouse:
    """An open warehouse (one process may hold an embedded DuckDB file).

    Each thread works on its own connection to the one database (DuckDB's ``cursor()``;
    a connection must not be shared between threads): the thread that opened the
    warehouse on the first, every other thread on one of its own, made when it first
    asks. So a server's console pages read committed data on their own connections
    while the job runner's refresh writes inside its transaction on another, and they
    see the last completed refresh until it commits.
    """

    def __init__(self, backend: Any, *, engine: str, location: str) -> None:
        self._root = backend
        self._owner = threading.get_ident()
        self._local = threading.local()
        self._others: list[Any] = []
        self._others_lock = threading.Lock()
        self.engine = engine
        self.location = location

    @property
    def _backend(self) -> Any:
        """The calling thread's Ibis backend (and so its own DuckDB connection)."""
        if threading.get_ident() == self._owner:
            return self._root
        mine = getattr(self._local, "backend", None)
        if mine is None:
            mine = ibis.duckdb.from_connection(self._root.con.cursor())
            self._local.backend = mine
            with self._others_lock:
                self._others.append(mine)
        return mine

    @classmethod
    def open_duckdb(
        cls, path: Path, *, memory_limit: str = "", threads: int = 0, read_only: bool = False
    ) -> Warehouse:
        """Open (or create) an embedded DuckDB warehouse; fail fast if another process holds it."""
        path.parent.mkdir(parents=True, exist_ok=True)
        config: dict[str, Any] = {}
        if memory_limit:
            config["memory_limit"] = memory_limit
        if threads:
            config["threads"] = threads
        try:
            con = duckdb.connect(str(path), read_only=read_only, config=config)
        except duckdb.IOException as exc:
            raise _lock_error(path, exc) from exc
        backend = ibis.duckdb.from_connection(con)
        return cls(backend, engine="duckdb", location=str(path))

    # -- reading (engine-neutral) --------------------------------------------------
    def table(self, name: str) -> ibis.Table:
        return self._backend.table(name)

    def tables(self) -> list[str]:
        return list(self._backend.list_tables())

    def has_table(self, name: str) -> bool:
        """Whether ``name`` is a table or view (one catalog look-up, not a listing)."""
        found = self.native.execute(
            "SELECT count(*) FROM information_schema.tables "
            "WHERE table_name = ? AND table_schema = current_schema()",
            [name],
        ).fetchone()
        return bool(found and found[0])

    def to_pyarrow(self, expr: ibis.Expr) -> pa.Table:
        return self._backend.to_pyarrow(expr)

    # -- engine-native access (loaders, DDL) ---------------------------------------
    @property
    def native(self) -> duckdb.DuckDBPyConnection:
        """The DuckDB connection, for engine-specific bulk loading."""
        con: duckdb.DuckDBPyConnection = self._backend.con
        return con

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> duckdb.DuckDBPyConnection:
        return self.native.execute(sql, params) if params else self.native.execute(sql)

    def fetch_all(self, sql: str, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        return self.execute(sql, params).fetchall()

    def scalar(self, sql: str, params: Sequence[Any] | None = None) -> Any:
        row = self.execute(sql, params).fetchone()
        return row[0] if row else None

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All or nothing: a crash or an error inside leaves no partial rows.

        Transactions nest: an inner one joins the outer one (a refresh runs all its
        steps in one), and other threads see none of it until the outermost commits.
        """
        depth = getattr(self._local, "depth", 0)
        if depth:
            self._local.depth = depth + 1
            try:
                yield
            finally:
                self._local.depth = depth
            return
        self.native.execute("BEGIN TRANSACTION")
        self._local.depth = 1
        try:
            yield
        except BaseException:
            self._local.depth = 0
            self.native.execute("ROLLBACK")
            raise
        self._local.depth = 0
        self.native.execute("COMMIT")

    def ensure_schema(self) -> None:
        """Create every canonical table that does not exist yet."""
        for statement in warehouse_ddl():
            self.native.execute(statement)

    def close(self) -> None:
        with self._others_lock:
            others, self._others = self._others, []
        for backend in others:
            backend.con.close()
        self._root.con.close()

    def __enter__(self) -> Warehouse:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _lock_error(path: Path, exc: Exception) -> WorkspaceError:
    text = str(exc)
    if "lock" not in text.lower():
        return WorkspaceError(f"cannot open the warehouse {path}: {text}")
    pid = _LOCK_PID.search(text)
    holder = f"process {pid.group(1)}" if pid else "another process"
    return WorkspaceError(
        f"the warehouse {path} is in use by {holder} (a running `memberlens serve` or "
        "another command). Wait for it to finish or stop it, then try again.",
        code="WORKSPACE_LOCKED",
    )
