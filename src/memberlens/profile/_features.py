"""The features step: one row per member per snapshot in ``member_features``.

The pieces (``_features_orders``, ``_features_activity``) are Ibis expressions; this
module joins them once on ``member_id``, applies each feature's formula
(``_feature_defs``) and writes the snapshot. The whole computation runs in the
warehouse engine, no per-member Python. Re-running a snapshot date replaces that
snapshot in one transaction, so the step is idempotent.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from memberlens.profile import _features_activity as act
from memberlens.profile import _features_orders as od
from memberlens.profile._feature_catalogue import FEATURES, feature_version
from memberlens.profile._feature_defs import WINDOWS
from memberlens.profile.contracts import FeatureCoverage, FeatureSnapshot, FeatureType
from memberlens.store import Warehouse, q

FEATURES_TABLE = "member_features"
SHARES_TABLE = "member_category_shares"
_SCRATCH = "_features_shares"  # category shares, computed once, read twice
_SQL_TYPES = {
    FeatureType.INTEGER: "BIGINT",
    FeatureType.DECIMAL: "DECIMAL(18,2)",
    FeatureType.FLOAT: "DOUBLE",
    FeatureType.STRING: "VARCHAR",
}
_IBIS_TYPES = {
    FeatureType.INTEGER: "int64",
    FeatureType.DECIMAL: od.MONEY,
    FeatureType.FLOAT: "float64",
    FeatureType.STRING: "string",
}


def compute_member_features(
    warehouse: Warehouse, *, cutoff: datetime, default_timezone: str
) -> FeatureSnapshot:
    """Compute and store the ``member_features`` snapshot for data before ``cutoff``.

    The snapshot date is the cut-off's UTC day; its rows (and its
    ``member_category_shares``) are replaced as a whole.

    Examples
    --------
    >>> from memberlens.store import Warehouse
    >>> import tempfile, pathlib
    >>> with tempfile.TemporaryDirectory() as d:
    ...     wh = Warehouse.open_duckdb(pathlib.Path(d) / "w.duckdb")
    ...     wh.ensure_schema()
    ...     snap = compute_member_features(
    ...         wh, cutoff=datetime(2025, 1, 1, tzinfo=UTC), default_timezone="UTC")
    ...     wh.close()
    >>> (snap.snapshot_date.isoformat(), snap.members)
    ('2025-01-01', 0)
    """
    cut = cutoff.astimezone(UTC).replace(tzinfo=None)  # warehouse times are naive UTC
    snapshot = cut.date()
    version = feature_version()
    ensure_feature_tables(warehouse)
    with _feature_expr(warehouse, cut, default_timezone) as (features, tiers_from):
        stamped = features.mutate(
            snapshot_date=ibis.literal(snapshot), feature_version=ibis.literal(version)
        )
        with warehouse.transaction():
            for table in (FEATURES_TABLE, SHARES_TABLE):
                warehouse.execute(f"DELETE FROM {table} WHERE snapshot_date = ?", [snapshot])
            warehouse.execute(f"INSERT INTO {FEATURES_TABLE} BY NAME {_sql(stamped)}")
            warehouse.execute(
                f"INSERT INTO {SHARES_TABLE} BY NAME SELECT ?::DATE AS snapshot_date, member_id, "
                "category, spend_share, order_share, ? AS feature_version "
                f"FROM {_SCRATCH}",
                [snapshot, version],
            )
    return FeatureSnapshot(
        snapshot_date=snapshot,
        cutoff=cutoff,
        feature_version=version,
        members=_count(warehouse, FEATURES_TABLE, snapshot),
        category_rows=_count(warehouse, SHARES_TABLE, snapshot),
        tiers_from=tiers_from,
    )


def feature_coverage(warehouse: Warehouse) -> FeatureCoverage:
    """The share of members with a value, per feature, in the latest snapshot."""
    if not warehouse.has_table(FEATURES_TABLE):
        return FeatureCoverage(None, 0, dict.fromkeys((f.name for f in FEATURES), None))
    present = set(warehouse.table(FEATURES_TABLE).columns)
    counted = [f.name for f in FEATURES if f.name in present]
    counts = ", ".join(f"count({q(name)})" for name in counted)
    row = warehouse.fetch_all(
        f"SELECT max(snapshot_date), count(*){', ' + counts if counts else ''} "
        f"FROM {FEATURES_TABLE} WHERE snapshot_date = "
        f"(SELECT max(snapshot_date) FROM {FEATURES_TABLE})"
    )[0]
    day, members = row[0], int(row[1])
    filled: dict[str, float | None] = dict.fromkeys((f.name for f in FEATURES), None)
    for name, n in zip(counted, row[2:], strict=True):
        filled[name] = round(int(n) / members, 4) if members else None
    return FeatureCoverage(day, members, filled)


def feature_frame(warehouse: Warehouse, *, cutoff: datetime, default_timezone: str) -> pa.Table:
    """The features of every member as of ``cutoff``, computed as the step does, not stored.

    Models train on these at past cut-offs: the same definitions the refresh scores
    with, and only data before each cut-off (point in time).
    """
    cut = cutoff.astimezone(UTC).replace(tzinfo=None)
    with _feature_expr(warehouse, cut, default_timezone) as (features, _):
        return warehouse.to_pyarrow(features)


@contextmanager
def _feature_expr(
    warehouse: Warehouse, cut: datetime, default_timezone: str
) -> Iterator[tuple[ir.Table, date | None]]:
    """(features, tiers_from): the expression is valid inside the block (it reads a scratch
    table); tiers_from is the tier snapshot it uses."""
    frames = od.order_frames(warehouse, cut)
    totals = od.order_totals(frames, cut)
    shares = od.category_shares(frames, totals)
    warehouse.execute(f"CREATE OR REPLACE TEMP TABLE {_SCRATCH} AS {_sql(shares)}")
    tiers, tiers_from = act.latest_tiers(warehouse, cut.date())
    try:
        yield (
            _features(
                warehouse, frames, totals, warehouse.table(_SCRATCH), tiers, cut, default_timezone
            ),
            tiers_from,
        )
    finally:
        warehouse.execute(f"DROP TABLE IF EXISTS {_SCRATCH}")


def ensure_feature_tables(warehouse: Warehouse) -> None:
    """Create the snapshot tables, and add columns for features defined since."""
    columns = ", ".join(f"{q(f.name)} {_SQL_TYPES[f.type]}" for f in FEATURES)
    warehouse.execute(
        f"CREATE TABLE IF NOT EXISTS {FEATURES_TABLE} (snapshot_date DATE NOT NULL, "
        f"member_id VARCHAR NOT NULL, feature_version VARCHAR NOT NULL, {columns})"
    )
    present = set(warehouse.table(FEATURES_TABLE).columns)
    for f in FEATURES:
        if f.name not in present:
            warehouse.execute(
                f"ALTER TABLE {FEATURES_TABLE} ADD COLUMN {q(f.name)} {_SQL_TYPES[f.type]}"
            )
    warehouse.execute(
        f"CREATE TABLE IF NOT EXISTS {SHARES_TABLE} (snapshot_date DATE NOT NULL, "
        "member_id VARCHAR NOT NULL, category VARCHAR NOT NULL, spend_share DOUBLE, "
        "order_share DOUBLE, feature_version VARCHAR NOT NULL)"
    )


def _sql(expr: ir.Table) -> str:
    return str(ibis.to_sql(expr, dialect="duckdb"))


def _count(warehouse: Warehouse, table: str, snapshot: date) -> int:
    return int(
        warehouse.scalar(f"SELECT count(*) FROM {table} WHERE snapshot_date = ?", [snapshot])
    )


def _features(
    warehouse: Warehouse,
    frames: od.OrderFrames,
    totals: ir.Table,
    shares: ir.Table,
    tiers: ir.Table | None,
    cut: datetime,
    default_timezone: str,
) -> ir.Table:
    """Every piece joined once on member_id, then each feature's formula."""
    attrs = act.member_attributes(warehouse, cut, default_timezone=default_timezone)
    zones = attrs.select("member_id", "zone")
    kept = frames.kept.left_join(zones, "member_id")
    kept = kept.mutate(zone=kept.zone.fill_null(default_timezone))
    weekday, hour = od.local_modes(kept)
    events = act.event_frame(warehouse, cut)
    bought = od.buys(frames, events)
    favourite = shares.filter(shares["rank"] == 0).select(
        "member_id", favourite_category="category", favourite_category_share="order_share"
    )
    pieces = [
        attrs.select("member_id", "signup_at"),
        totals,
        od.interval_spread(frames),
        od.mode(frames.kept, frames.kept.channel, "preferred_channel"),
        weekday,
        hour,
        favourite,
        act.event_totals(events),
        act.conversion(events, bought),
        act.cart_abandonments(events, bought, cut),
        act.active_days(events, frames.kept, cut),
        act.feedback_totals(warehouse, cut),
        act.touch_totals(warehouse, cut),
        act.points_balance(warehouse, cut),
    ]
    if tiers is not None:
        pieces.append(tiers)
    base = _population(attrs, frames, events)
    for piece in pieces:
        base = base.left_join(piece, "member_id").select(
            base, *[c for c in piece.columns if c != "member_id"]
        )
    return _formulas(base, cut, has_tiers=tiers is not None)


def _population(attrs: ir.Table, frames: od.OrderFrames, events: ir.Table) -> ir.Table:
    """Members who existed at the cut-off: registered before it, or active before it."""
    ids = attrs.select("member_id").union(frames.orders.select("member_id"))
    return ids.union(events.select("member_id")).distinct()


def _formulas(t: ir.Table, cut: datetime, *, has_tiers: bool) -> ir.Table:
    freq = t.frequency.fill_null(0)
    no_amounts = (freq > 0) & (t.priced.fill_null(0) == 0)
    values: dict[str, ir.Value] = {
        "recency_days": od.days_before(cut, t.last_order_at),
        "frequency": freq,
        "monetary": ibis.ifelse(freq == 0, 0, t.monetary_raw),
        "avg_order_value": (t.monetary_raw / t.priced.nullif(0)).round(2),
        "tenure_days": od.days_before(cut, ibis.least(t.signup_at, t.first_order_at)),
        "interval_mean_days": t.last_day.delta(t.first_day, unit="day")
        / (t.purchase_days - 1).nullif(0),
        "interval_std_days": t.interval_std_days,
        "preferred_channel": t.preferred_channel,
        "preferred_weekday": t.preferred_weekday,
        "preferred_hour": t.preferred_hour,
        "coupon_share": t.coupon_orders / freq.nullif(0),
        "refund_rate": t.refunds / t.not_cancelled.nullif(0),
        "favourite_category": t.favourite_category,
        "favourite_category_share": t.favourite_category_share,
        "product_views": t.product_views.fill_null(0),
        "view_to_buy": t.converted / t.product_views.nullif(0),
        "cart_abandonments": t.cart_abandonments.fill_null(0),
        "favourites": t.favourites.fill_null(0),
        "days_since_last_event": od.days_before(cut, t.last_event_at),
        "reviews": t.reviews.fill_null(0),
        "avg_rating": t.avg_rating,
        "complaints": t.complaints.fill_null(0),
        "last_nps": t.last_nps,
        "last_sentiment": t.last_sentiment,
        "messages": t.messages.fill_null(0),
        "open_rate": t.opened / t.messages.nullif(0),
        "click_rate": t.clicked / t.messages.nullif(0),
        "points_balance": t.points_balance.fill_null(0),
        "tier": t.tier if has_tiers else ibis.null("string"),
    }
    for days in WINDOWS:
        spent = ibis.ifelse(no_amounts, ibis.null(od.MONEY), t[f"spend_{days}d_raw"].fill_null(0))
        values[f"spend_{days}d"] = spent
        values[f"orders_{days}d"] = t[f"orders_{days}d"].fill_null(0)
    for name in ("active_days_30d", "active_days_90d"):
        values[name] = t[name].fill_null(0)
    typed = {f.name: values[f.name].cast(_IBIS_TYPES[f.type]) for f in FEATURES}
    return t.select("member_id", **typed)
