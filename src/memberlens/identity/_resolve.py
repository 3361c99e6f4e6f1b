"""Deterministic matching: records sharing an identifier are one member.

The engine does the heavy part (join identifiers to their matching keys and to
member_map, count the records behind each key); Python runs union-find over the small
result (:mod:`._graph`) and writes back only what changed. Raw rows are never touched:
a merge is a new ``member_id`` on some ``member_map`` rows, and every version is kept
in ``identity_merges`` so that :func:`unmerge` can put it back.

Survivorship of the id: a component takes the own id (``stable_id("m", source, key)``,
what ingest gave the record) of its oldest record — earliest ``member_map.since``, ties
by that id. Growing a component never changes its oldest record, so a member's id
stays stable across runs.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

import pyarrow as pa

from memberlens.core.clock import utc_now
from memberlens.core.ids import new_run_id, stable_id
from memberlens.core.settings import IdentitySettings
from memberlens.identity._golden import rebuild_golden
from memberlens.identity._graph import IdentityGraph
from memberlens.identity._keys import refresh_match_keys
from memberlens.identity._notify import record_changes
from memberlens.identity._stitch import rebuild_anonymous_map
from memberlens.identity.contracts import ChangeKind, FlaggedIdentifier, ResolveResult
from memberlens.privacy import KeyRing, mask
from memberlens.store import StateStore, Warehouse

_RECORDS = """
SELECT DISTINCT k.id_type, k.match_hash, i.source, i.source_member_key
FROM member_identities i
JOIN identity_match_keys k USING (id_type, id_hash)
JOIN member_map m USING (source, source_member_key)"""


def _now() -> datetime:
    return utc_now().replace(tzinfo=None, microsecond=0)


def _groups(warehouse: Warehouse, limit: int) -> list[tuple[Any, ...]]:
    """(id_type, match_hash, source, key) of every identifier held by 2..limit records."""
    return warehouse.fetch_all(
        f"WITH r AS ({_RECORDS}), g AS (SELECT *, count(*) OVER "
        "(PARTITION BY id_type, match_hash) AS n FROM r) "
        "SELECT id_type, match_hash, source, source_member_key FROM g "
        "WHERE n BETWEEN 2 AND ? ORDER BY ALL",
        [limit],
    )


def _flag(
    warehouse: Warehouse, keyring: KeyRing, limit: int, run_id: str
) -> list[FlaggedIdentifier]:
    """Identifiers above the guard: recorded in ``identity_flags``, returned masked."""
    warehouse.execute(
        f"CREATE OR REPLACE TEMP TABLE flagged AS WITH r AS ({_RECORDS}) "
        "SELECT id_type, match_hash, count(*) AS records FROM r GROUP BY ALL HAVING count(*) > ?",
        [limit],
    )
    warehouse.execute("DELETE FROM identity_flags")
    warehouse.execute(
        "INSERT INTO identity_flags SELECT id_type, match_hash, records, ?, ? FROM flagged",
        [run_id, _now()],
    )
    rows = warehouse.fetch_all(
        "SELECT f.id_type, f.records, any_value(i.id_value) FROM flagged f "
        "JOIN identity_match_keys k USING (id_type, match_hash) "
        "JOIN member_identities i USING (id_type, id_hash) "
        "GROUP BY f.id_type, f.match_hash, f.records ORDER BY f.id_type, f.records DESC"
    )
    out = []
    for id_type, records, sealed in rows:
        clear = keyring.decrypt(sealed, context=f"member_identities.{id_type}")
        out.append(FlaggedIdentifier(id_type, mask(clear, kind=id_type) or "", int(records)))
    return out


def _labels(warehouse: Warehouse, index: dict[tuple[str, str], int]) -> dict[int, dict[str, str]]:
    """Cannot-link labels from earlier unmerges, by record index."""
    labels: dict[int, dict[str, str]] = defaultdict(dict)
    for split, source, key, grp in warehouse.fetch_all(
        "SELECT split_id, source, source_member_key, grp FROM identity_splits"
    ):
        i = index.get((source, key))
        if i is not None:
            labels[i][split] = grp
    return labels


def cluster(
    records: list[tuple[str, str, str, datetime]],
    groups: list[tuple[Any, ...]],
    labels: dict[int, dict[str, str]],
) -> list[str]:
    """The member id of each record after matching (pure: no store access).

    ``records`` are (source, key, current member id, since); ``groups`` are
    (id_type, match_hash, source, key) rows sorted by identifier.
    """
    index = {(r[0], r[1]): i for i, r in enumerate(records)}
    graph = IdentityGraph(len(records), labels)
    members: list[int] = []
    current: tuple[Any, Any] | None = None
    for id_type, match_hash, source, key in groups:
        if (id_type, match_hash) != current:
            graph.link_all(members)
            members, current = [], (id_type, match_hash)
        members.append(index[(source, key)])
    graph.link_all(members)
    own = [stable_id("m", r[0], r[1]) for r in records]
    new = [""] * len(records)
    for component in graph.components():
        oldest = min(component, key=lambda i: (records[i][3], own[i]))
        for i in component:
            new[i] = own[oldest]
    return new


def _kinds(
    records: list[tuple[str, str, str, datetime]], new: list[str], changed: list[int]
) -> dict[int, ChangeKind]:
    """Merge when the record's old member is gone afterwards; unmerge when it remains."""
    after = set(new)
    return {i: "merge" if records[i][2] not in after else "unmerge" for i in changed}


def resolve(
    warehouse: Warehouse, state: StateStore, keyring: KeyRing, *, settings: IdentitySettings
) -> ResolveResult:
    """Match records into members, rewrite ``member_map``, stitch anonymous events.

    Examples
    --------
    >>> from memberlens.core.settings import IdentitySettings
    >>> IdentitySettings().max_records_per_identifier
    10
    """
    run_id, now = new_run_id("idr"), _now()
    limit = settings.max_records_per_identifier
    refresh_match_keys(warehouse, keyring)
    records: list[tuple[str, str, str, datetime]] = [
        (s, k, m, t)
        for s, k, m, t in warehouse.fetch_all(
            "SELECT source, source_member_key, member_id, since FROM member_map ORDER BY ALL"
        )
    ]
    index = {(r[0], r[1]): i for i, r in enumerate(records)}
    new = cluster(records, _groups(warehouse, limit), _labels(warehouse, index))
    changed = [i for i, r in enumerate(records) if r[2] != new[i]]
    kinds = _kinds(records, new, changed)
    with warehouse.transaction():
        flagged = _flag(warehouse, keyring, limit, run_id)
        _apply(warehouse, records, new, kinds, run_id=run_id, now=now)
        rebuild_golden(warehouse, settings.source_priority)
        linked = rebuild_anonymous_map(warehouse, run_id=run_id, now=now)
    pairs = [
        (kinds[i], new[i], records[i][2])
        if kinds[i] == "merge"
        else (kinds[i], records[i][2], new[i])
        for i in changed
    ]
    changes = record_changes(state, pairs, run_id=run_id, at=now)
    merged_into = {new[i] for i in changed if kinds[i] == "merge"}
    return ResolveResult(
        run_id=run_id,
        clusters_merged=len(merged_into),
        records_affected=len(changed),
        members_before=len({r[2] for r in records}),
        members_after=len(set(new)),
        flagged=tuple(flagged),
        anonymous_linked=linked,
        changes=changes,
    )


def _apply(
    warehouse: Warehouse,
    records: list[tuple[str, str, str, datetime]],
    new: list[str],
    kinds: dict[int, ChangeKind],
    *,
    run_id: str,
    now: datetime,
) -> None:
    """Rewrite the changed rows of member_map and keep their previous version."""
    if not kinds:
        return
    rows = sorted(kinds)
    table = pa.table(
        {
            "source": [records[i][0] for i in rows],
            "source_member_key": [records[i][1] for i in rows],
            "previous_member_id": [records[i][2] for i in rows],
            "member_id": [new[i] for i in rows],
            "kind": [kinds[i] for i in rows],
        }
    )
    warehouse.native.register("map_changes", table)
    warehouse.execute(
        "INSERT INTO identity_merges SELECT ?, ?, c.kind, c.source, c.source_member_key, "
        "c.previous_member_id, m.reason, c.member_id FROM map_changes c "
        "JOIN member_map m USING (source, source_member_key)",
        [run_id, now],
    )
    warehouse.execute(
        "UPDATE member_map SET member_id = c.member_id, reason = c.kind || ':' || ? "
        "FROM map_changes c WHERE member_map.source = c.source "
        "AND member_map.source_member_key = c.source_member_key",
        [run_id],
    )
    warehouse.native.unregister("map_changes")
