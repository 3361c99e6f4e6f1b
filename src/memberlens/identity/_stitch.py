"""Anonymous behaviour stitched to members, without rewriting a raw event.

An ``identify`` or ``login`` event that carries both an ``anonymous_id`` and a
``source_member_key`` says that device or cookie belongs to that record. Every event
of that anonymous id — earlier ones included — then counts for the record's member:
``anonymous_map (anonymous_id → source, source_member_key)`` holds the link, and
readers of events join it (:func:`events_with_members`) beside ``member_map``. An
anonymous id linked to two different members (a shared tablet) is not stitched: its
events could be either's.
"""

from __future__ import annotations

from datetime import datetime

import ibis
import ibis.expr.types as ir

from memberlens.store import Warehouse

LINKING_EVENTS = ("identify", "login")


def rebuild_anonymous_map(warehouse: Warehouse, *, run_id: str, now: datetime) -> int:
    """Replace ``anonymous_map`` from the linking events; return how many ids it links."""
    kinds = ", ".join(f"'{k}'" for k in LINKING_EVENTS)
    warehouse.execute("DELETE FROM anonymous_map")
    warehouse.execute(
        "INSERT INTO anonymous_map "
        "WITH links AS (SELECT e.anonymous_id, e.source, e.source_member_key, e.event_id, "
        "e.occurred_at, m.member_id FROM events e "
        "JOIN member_map m USING (source, source_member_key) "
        f"WHERE e.event_type IN ({kinds}) AND e.anonymous_id IS NOT NULL) "
        "SELECT anonymous_id, "
        "arg_max(source, (occurred_at, event_id)), arg_max(source_member_key, (occurred_at, "
        "event_id)), ?, arg_max(event_id, (occurred_at, event_id)), ? FROM links "
        "GROUP BY anonymous_id HAVING count(DISTINCT member_id) = 1",
        [now, run_id],
    )
    return int(warehouse.scalar("SELECT count(*) FROM anonymous_map"))


def events_with_members(warehouse: Warehouse) -> ir.Table:
    """Every event that belongs to a member, with its ``member_id`` and ``stitched``.

    Events with a source member key resolve through ``member_map``; anonymous events
    through ``anonymous_map`` and then ``member_map``, so merges and unmerges carry
    them along too.
    """
    events = warehouse.table("events")
    mm = warehouse.table("member_map").select("source", "source_member_key", "member_id")
    direct = events.inner_join(mm, ["source", "source_member_key"])
    direct = direct.mutate(stitched=ibis.literal(False))
    am = warehouse.table("anonymous_map")
    am = am.select("anonymous_id", a_source=am.source, a_key=am.source_member_key)
    am = am.inner_join(mm, [am.a_source == mm.source, am.a_key == mm.source_member_key])
    am = am.select("anonymous_id", "member_id")
    anonymous = events.filter(events.source_member_key.isnull())
    anonymous = anonymous.inner_join(am, "anonymous_id").mutate(stitched=ibis.literal(True))
    return direct.union(anonymous.select(*direct.columns))
