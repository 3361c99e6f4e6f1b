"""Quarantining rows that never went through a file import (e.g. API items)."""

from __future__ import annotations

from collections.abc import Sequence

from memberlens.core.clock import utc_now
from memberlens.core.ids import new_run_id
from memberlens.privacy import KeyRing
from memberlens.schema import RAW_TABLES
from memberlens.store import Warehouse


def quarantine_records(
    warehouse: Warehouse,
    keyring: KeyRing,
    *,
    table: str,
    source_file: str,
    records: Sequence[tuple[int | None, str, str]],
) -> str:
    """Store ``(line, reason, raw)`` records as one quarantine run; return its id.

    Raw text of tables with personal columns is encrypted, as for file imports.
    """
    run_id = new_run_id("q")
    personal = RAW_TABLES[table].has_personal
    now = utc_now().replace(tzinfo=None)
    rows = [
        (
            run_id,
            table,
            source_file,
            line,
            None,
            reason,
            keyring.encrypt(raw, context="quarantine.raw") if personal else raw,
            personal,
            now,
        )
        for line, reason, raw in records
    ]
    with warehouse.transaction():
        warehouse.native.executemany(
            "INSERT INTO quarantine VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows
        )
    return run_id
