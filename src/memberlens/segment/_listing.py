"""The member list: every member of the newest refresh, filtered, sorted and paged.

One row per member of the newest ``member_features`` snapshot, with what the same
refresh derived beside it — the tier and days since the last purchase (features),
CLV and churn risk (``member_predictions``), the lifecycle stage — filtered by a saved
segment's members of that snapshot, a tier and a stage, sorted by value (CLV), risk
or recency with nulls last and ties broken on ``member_id`` (so pages never overlap or
skip anyone, on every engine), and cut into pages in the engine. Only the page's rows
come back, with their personal values masked as search hits are
(``profile.member_summaries``).
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from memberlens import predict, profile
from memberlens.core.settings import SegmentsSettings
from memberlens.privacy import KeyRing
from memberlens.segment._compute import LIFECYCLE_TABLE, MEMBERS_TABLE, latest_snapshot
from memberlens.segment._saved import get_segment, list_segments
from memberlens.segment.contracts import MemberList, MemberQuery, MemberRow
from memberlens.store import StateStore, Warehouse

_SORTED_BY = {"value": "clv", "risk": "churn_risk", "recency": "recency_days"}


def list_members(
    warehouse: Warehouse,
    state: StateStore,
    keyring: KeyRing,
    query: MemberQuery,
    *,
    settings: SegmentsSettings,
) -> MemberList:
    """A page of the newest snapshot's members matching ``query`` (see the module doc).

    Raises :class:`NoSnapshot` before any refresh and :class:`SegmentError` for a
    segment that is not saved.

    Examples
    --------
    >>> page = list_members(wh, state, ring, MemberQuery(sort="risk"), settings=s)  # doctest: +SKIP
    >>> page.total, page.rows[0].churn_risk  # doctest: +SKIP
    (19990, 0.98)
    """
    snapshot = latest_snapshot(warehouse)
    if query.segment is not None:
        get_segment(state, query.segment)
    table = _members(warehouse, snapshot)
    chosen = _filtered(warehouse, table, snapshot, query)
    total = int(warehouse.to_pyarrow(chosen.count().name("n").as_table()).column("n")[0].as_py())
    key = chosen[_SORTED_BY[query.sort]]
    first = key.desc(nulls_first=False) if query.direction == "desc" else key.asc(nulls_first=False)
    page = chosen.order_by([first, chosen.member_id.asc()]).limit(
        query.size, offset=(query.page - 1) * query.size
    )
    found = warehouse.to_pyarrow(page).to_pylist()
    masked = profile.member_summaries(warehouse, keyring, [r["member_id"] for r in found])
    rows = tuple(_row(r, masked[r["member_id"]]) for r in found)
    stages = [*settings.lifecycle, *sorted(set(_distinct(warehouse, table, "stage")) -
                                           set(settings.lifecycle))]  # fmt: skip
    return MemberList(
        snapshot_date=snapshot,
        query=query,
        total=total,
        rows=rows,
        segments=tuple(s.name for s in list_segments(state, warehouse=None)),
        tiers=tuple(sorted(_distinct(warehouse, table, "tier"))),
        stages=tuple(stages),
    )


def _members(warehouse: Warehouse, snapshot: object) -> ir.Table:
    """The snapshot's members with the columns the list shows, sorts and filters on."""
    f = warehouse.table(profile.FEATURES_TABLE)
    table = f.filter(f.snapshot_date == snapshot).select(
        "member_id", "tier", "recency_days", "frequency", "monetary"
    )
    scores = {"clv": "float64", "churn_risk": "float64", "churn_band": "string"}
    if warehouse.has_table(predict.PREDICTIONS_TABLE):
        # A read: tables made before churn scoring lack its columns, read as nulls.
        p = warehouse.table(predict.PREDICTIONS_TABLE)
        p = p.filter(p.snapshot_date == snapshot).select(
            "member_id",
            **{
                c: p[c] if c in p.columns else ibis.literal(None, type=t) for c, t in scores.items()
            },
        )
        table = table.left_join(p, "member_id").drop("member_id_right")
    else:
        table = table.mutate(**{c: ibis.literal(None, type=t) for c, t in scores.items()})
    if warehouse.has_table(LIFECYCLE_TABLE):
        s = warehouse.table(LIFECYCLE_TABLE)
        s = s.filter(s.snapshot_date == snapshot).select("member_id", "stage")
        return table.left_join(s, "member_id").drop("member_id_right")
    return table.mutate(stage=ibis.literal(None, type="string"))


def _filtered(
    warehouse: Warehouse, table: ir.Table, snapshot: object, query: MemberQuery
) -> ir.Table:
    if query.tier is not None:
        table = table.filter(table.tier == query.tier)
    if query.stage is not None:
        table = table.filter(table.stage == query.stage)
    if query.segment is not None:
        if not warehouse.has_table(MEMBERS_TABLE):
            return table.filter(ibis.literal(False))
        m = warehouse.table(MEMBERS_TABLE)
        m = m.filter(m.snapshot_date == snapshot, m.segment == query.segment)
        table = table.filter(table.member_id.isin(m.member_id))
    return table


def _distinct(warehouse: Warehouse, table: ir.Table, column: str) -> list[str]:
    values = warehouse.to_pyarrow(table.select(column).distinct()).column(0).to_pylist()
    return [v for v in values if v is not None]


def _row(found: dict[str, object], who: profile.MemberSummary) -> MemberRow:
    return MemberRow(
        member_id=str(found["member_id"]),
        sources=who.sources,
        name=who.name,
        phone=who.phone,
        email=who.email,
        city=who.city,
        tier=_text(found["tier"]),
        stage=_text(found["stage"]),
        clv=_number(found["clv"]),
        churn_risk=_number(found["churn_risk"]),
        churn_band=_text(found["churn_band"]),
        recency_days=_whole(found["recency_days"]),
        frequency=_whole(found["frequency"]),
        monetary=_number(found["monetary"]),
    )


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _number(value: object) -> float | None:
    return None if value is None else float(value)  # type: ignore[arg-type]


def _whole(value: object) -> int | None:
    return None if value is None else int(value)  # type: ignore[call-overload]
