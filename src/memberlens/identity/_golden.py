"""Resolved attributes of each member: one value per attribute from its records.

A member with several source records may hold conflicting values (two phones, two
birth dates). ``member_golden`` takes each attribute from the record that wins by the
configured rule — source priority first (``[identity] source_priority``, unlisted
sources after), then the most recently loaded record, then the source and key, so
the result is the same on every engine — skipping records where it is empty. Personal
columns stay ciphertext: they are the members table's own values, which decrypt with
the context ``members.<column>``; the blind index goes with the value it indexes.
"""

from __future__ import annotations

from memberlens.schema import RAW_TABLES
from memberlens.store import Warehouse, q

_SKIP = {"source", "source_member_key", "email_bidx", "phone_bidx"}
_PAIRED = {"email_bidx": "email", "phone_bidx": "phone"}


def _pick(column: str, present: str) -> str:
    order = "_priority, _loaded_at DESC NULLS LAST, source, source_member_key"
    return (
        f"first({q(column)} ORDER BY {order}) FILTER (WHERE {q(present)} IS NOT NULL) "
        f"AS {q(column)}"
    )


def rebuild_golden(warehouse: Warehouse, priority: list[str]) -> int:
    """Replace ``member_golden`` (one row per member with a members record)."""
    columns = [c.name for c in RAW_TABLES["members"].columns if c.name not in _SKIP]
    picks = [_pick(c, c) for c in columns] + [_pick(b, c) for b, c in _PAIRED.items()]
    warehouse.execute(
        "CREATE OR REPLACE TABLE member_golden AS "
        "WITH r AS (SELECT m.member_id, b.*, "
        "coalesce(list_position(?::VARCHAR[], b.source), 1000000) AS _priority "
        "FROM members b JOIN member_map m USING (source, source_member_key)) "
        f"SELECT member_id, count(*) AS records, string_agg(DISTINCT source, ',' ORDER BY source) "
        f"AS sources, {', '.join(picks)} FROM r GROUP BY member_id",
        [priority],
    )
    return int(warehouse.scalar("SELECT count(*) FROM member_golden"))
