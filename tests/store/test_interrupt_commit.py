"""A Ctrl-C that reached the process while a transaction ran rolls it back.

DuckDB checks for signals inside its queries and may take one without raising (the
fresh-clone CI run of 2026-12-07: Ctrl-C during an import's load, yet all 200,000
rows committed and exit 0). The CLI records every Ctrl-C in ``core.interrupt``; the
warehouse consults it before committing.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from memberlens.core import interrupt
from memberlens.store import Warehouse


@pytest.fixture
def warehouse(tmp_path: Path) -> Iterator[Warehouse]:
    wh = Warehouse.open_duckdb(tmp_path / "w.duckdb")
    wh.execute("CREATE TABLE t (x INTEGER)")
    try:
        yield wh
    finally:
        interrupt.clear()
        wh.close()


def test_a_recorded_ctrl_c_rolls_the_transaction_back(warehouse: Warehouse) -> None:
    with pytest.raises(KeyboardInterrupt), warehouse.transaction():
        warehouse.execute("INSERT INTO t VALUES (1)")
        interrupt.request()  # as the CLI's handler does when DuckDB kept the signal
    assert warehouse.scalar("SELECT count(*) FROM t") == 0


def test_without_one_the_transaction_commits(warehouse: Warehouse) -> None:
    with warehouse.transaction():
        warehouse.execute("INSERT INTO t VALUES (1)")
    assert warehouse.scalar("SELECT count(*) FROM t") == 1
