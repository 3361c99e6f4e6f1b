"""Training rows for the churn model: features at past cut-offs, labels after them.

Churn at a cut-off ``c`` with horizon ``H`` days: a member who bought before ``c``
makes no purchase on the days ``c .. c+H-1``. A row holds the member's features as
of ``c`` (:func:`memberlens.profile.feature_frame`, the same definitions the refresh
scores with, reading only data before ``c``) and that label.

The plan (:func:`plan_cutoffs`) is honest by construction: a model evaluated at ``E``
trains on cut-offs whose label windows end by ``E`` (``c + H <= E``), so nothing it
learns comes from after ``E``; the latest of them validates (early stopping and
calibration), the others fit. ``overlap=True`` drops that rule (training label
windows may run past ``E``) for data too short for it, and reports say so.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import ibis
import numpy as np
import pyarrow as pa

from memberlens import profile
from memberlens.core.errors import InputError
from memberlens.predict._summary import transactions
from memberlens.store import Warehouse

# What the model reads: the numeric features of the dictionary (weekday and hour are
# labels, not quantities) and one derived ratio, the current gap over the usual one.
MODEL_FEATURES = (
    "recency_days",
    "frequency",
    "monetary",
    "avg_order_value",
    "tenure_days",
    "interval_mean_days",
    "interval_std_days",
    "spend_30d",
    "orders_30d",
    "spend_90d",
    "orders_90d",
    "spend_365d",
    "orders_365d",
    "coupon_share",
    "refund_rate",
    "favourite_category_share",
    "product_views",
    "view_to_buy",
    "cart_abandonments",
    "favourites",
    "days_since_last_event",
    "active_days_30d",
    "active_days_90d",
    "reviews",
    "avg_rating",
    "complaints",
    "last_nps",
    "messages",
    "open_rate",
    "click_rate",
    "points_balance",
    "gap_ratio",
    "p_alive",
    "expected_purchases_horizon",
)
# Inputs computed here rather than read from the features table.
DERIVED = ("gap_ratio", "p_alive", "expected_purchases_horizon")
# The horizon defaults to this quantile of the gaps between consecutive purchase days:
# nine repeat purchases in ten come within it, so a member silent for longer is unlikely
# to come back, not merely late (docs/predictions.md, "The horizon").
HORIZON_QUANTILE = 0.9
HORIZON_BOUNDS = (7, 365)


@dataclass(frozen=True)
class Rows:
    """Labelled rows at one or more cut-offs (features as float columns)."""

    member_id: np.ndarray
    cutoff: np.ndarray  # datetime64[D]
    features: np.ndarray  # (rows, len(MODEL_FEATURES)) float64, NaN = missing
    churned: np.ndarray | None  # bool; None when unlabelled (scoring now)
    wait_days: np.ndarray | None = None  # days to the next purchase; NaN when churned

    def __len__(self) -> int:
        return len(self.member_id)

    @staticmethod
    def concat(parts: list[Rows]) -> Rows:
        labelled = all(p.churned is not None for p in parts)
        return Rows(
            np.concatenate([p.member_id for p in parts]),
            np.concatenate([p.cutoff for p in parts]),
            np.vstack([p.features for p in parts]),
            np.concatenate([p.churned for p in parts if p.churned is not None])
            if labelled
            else None,
            np.concatenate([p.wait_days for p in parts if p.wait_days is not None])
            if labelled
            else None,
        )


@dataclass(frozen=True)
class CutoffPlan:
    """Where a model is evaluated (or served) and the cut-offs it learns from."""

    target: date  # the evaluation cut-off, or the scoring day for a production model
    horizon_days: int
    fit: tuple[date, ...]  # oldest first
    validate: date
    overlap: bool


def default_horizon(warehouse: Warehouse, before: date) -> int:
    """Whole days: the 90th percentile (:data:`HORIZON_QUANTILE`, linear interpolation,
    rounded up) of the gaps between members' consecutive purchase days before
    ``before``, within :data:`HORIZON_BOUNDS`."""
    days = transactions(warehouse, before)
    gaps = days.mutate(
        gap=days.day.delta(days.day.lag().over(group_by="member_id", order_by="day"), unit="day")
    )
    q = (
        warehouse.to_pyarrow(
            gaps.filter(gaps.gap.notnull()).gap.quantile(HORIZON_QUANTILE).name("q").as_table()
        )
        .column("q")[0]
        .as_py()
    )
    if q is None:
        raise InputError(
            f"no member bought on two different days before {before}: churn needs repeat "
            "purchases to learn from; load more orders or pass --horizon-days"
        )
    low, high = HORIZON_BOUNDS
    return int(min(max(int(np.ceil(q)), low), high))


def plan_cutoffs(
    target: date,
    horizon_days: int,
    *,
    first_day: date,
    cutoffs: int,
    step_days: int,
    overlap: bool = False,
) -> CutoffPlan:
    """Training cut-offs for a model evaluated (or served) at ``target``; see module doc.

    Cut-offs step back by ``step_days`` from the latest allowed one and stop where less
    than ``step_days`` of history lies before them.
    """
    latest = target - timedelta(days=step_days if overlap else horizon_days)
    found = [latest - timedelta(days=i * step_days) for i in range(cutoffs)]
    usable = sorted(c for c in found if c >= first_day + timedelta(days=step_days))
    if len(usable) < 2:
        rule = "" if overlap else f" (each needs its {horizon_days}-day label window before it)"
        raise InputError(
            f"not enough history before {target} for the churn model: it needs two "
            f"cut-offs at least {step_days} days after the first order ({first_day}){rule}. "
            "Load a longer order history, shorten --horizon-days or --step-days, or "
            "evaluate at a later date"
        )
    return CutoffPlan(target, horizon_days, tuple(usable[:-1]), usable[-1], overlap)


FeatureSource = Callable[[date], pa.Table]


def feature_source(warehouse: Warehouse, default_timezone: str) -> FeatureSource:
    """Features as of a day (midnight UTC), computed once per day and kept."""
    memo: dict[date, pa.Table] = {}

    def at(day: date) -> pa.Table:
        if day not in memo:
            moment = datetime(day.year, day.month, day.day, tzinfo=UTC)
            memo[day] = profile.feature_frame(
                warehouse, cutoff=moment, default_timezone=default_timezone
            )
        return memo[day]

    return at


def rows_at(
    warehouse: Warehouse,
    features: FeatureSource,
    cutoff: date,
    horizon_days: int,
    *,
    labelled: bool = True,
) -> Rows:
    """Buyers before ``cutoff`` (by member id) with their features and their label."""
    table = features(cutoff)
    bought = table.column("frequency").to_numpy(zero_copy_only=False)
    keep = np.flatnonzero(np.nan_to_num(bought.astype(np.float64)) > 0)
    table = table.take(pa.array(keep)).sort_by("member_id")
    member_id = np.asarray(table.column("member_id").to_pylist(), dtype=object)
    matrix = feature_matrix(table, bgnbd_inputs(warehouse, cutoff, horizon_days, member_id))
    stamp = np.full(len(member_id), np.datetime64(cutoff, "D"))
    if not labelled:
        return Rows(member_id, stamp, matrix, None)
    buyers, wait = _next_purchases(warehouse, cutoff, cutoff + timedelta(days=horizon_days))
    found = dict(zip(buyers, wait, strict=True))
    wait_days = np.array([found.get(m, np.nan) for m in member_id], dtype=np.float64)
    return Rows(member_id, stamp, matrix, np.isnan(wait_days), wait_days)


def bgnbd_inputs(
    warehouse: Warehouse, cutoff: date, horizon_days: int, member_id: np.ndarray
) -> np.ndarray:
    """(P(alive), expected purchases in the horizon) per member from a BG/NBD fitted on
    the purchases before ``cutoff``; NaN where it cannot be fitted or the member is not
    in its summary (no completed order)."""
    from memberlens.predict._bgnbd import BetaGeoModel
    from memberlens.predict._summary import summarise

    out = np.full((len(member_id), 2), np.nan)
    try:
        summary = summarise(warehouse, calibration_end=cutoff - timedelta(days=1))
        x, t_x, t_age = (summary.column(c).to_numpy() for c in ("frequency", "recency", "T"))
        bg = BetaGeoModel().fit(x, t_x, t_age)
    except InputError:  # too few members or no repeat buyers: the trees do without
        return out
    scores = np.column_stack(
        [bg.p_alive(x, t_x, t_age), bg.expected_purchases(horizon_days / 7.0, x, t_x, t_age)]
    )
    ids = np.asarray(summary.column("member_id").to_pylist(), dtype=object)
    position = {m: i for i, m in enumerate(ids)}
    at = np.array([position.get(m, -1) for m in member_id], dtype=np.int64)
    found = at >= 0
    out[found] = scores[at[found]]
    return out


def feature_matrix(table: pa.Table, bgnbd: np.ndarray) -> np.ndarray:
    """The model's input columns (MODEL_FEATURES) as float64, nulls as NaN."""
    columns = []
    for name in MODEL_FEATURES:
        if name in DERIVED:
            continue
        values = table.column(name).cast(pa.float64()).to_numpy(zero_copy_only=False)
        columns.append(np.asarray(values, dtype=np.float64))
    recency = columns[MODEL_FEATURES.index("recency_days")]
    usual = columns[MODEL_FEATURES.index("interval_mean_days")]
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(usual > 0, recency / usual, np.nan)
    columns += [ratio, bgnbd[:, 0], bgnbd[:, 1]]
    return np.column_stack(columns)


def _next_purchases(warehouse: Warehouse, start: date, stop: date) -> tuple[list[str], list[float]]:
    """Members with a purchase day in ``start .. stop - 1`` and days from start to the first."""
    days = transactions(warehouse, stop)
    begin = ibis.literal(start.isoformat()).cast("date")
    found = days.filter(days.day >= begin)
    first = found.group_by("member_id").aggregate(wait=found.day.min().delta(begin, unit="day"))
    table = warehouse.to_pyarrow(first)
    return table.column("member_id").to_pylist(), table.column("wait").to_pylist()


def lapsed(
    warehouse: Warehouse, cutoff: date, horizon_days: int, member_id: np.ndarray
) -> np.ndarray:
    """Per member of ``member_id``: True when they bought nothing on the
    ``horizon_days`` days before ``cutoff``. By the churn label's own rule such a member
    churned already (at ``cutoff - horizon_days``), so they have *lapsed* and are no
    longer at risk of lapsing. Purchase days are UTC days, as for the labels."""
    days = transactions(warehouse, cutoff)
    since = ibis.literal((cutoff - timedelta(days=horizon_days)).isoformat()).cast("date")
    recent = warehouse.to_pyarrow(days.filter(days.day >= since).select("member_id").distinct())
    active = set(recent.column("member_id").to_pylist())
    return np.array([m not in active for m in member_id], dtype=bool)


def last_purchase_day(warehouse: Warehouse, before: date) -> date | None:
    """The newest purchase day before ``before``, or None without any."""
    days = transactions(warehouse, before)
    last = warehouse.to_pyarrow(days.day.max().name("d").as_table()).column("d")[0].as_py()
    return last if isinstance(last, date) else None


def first_purchase_day(warehouse: Warehouse, before: date) -> date:
    """The first purchase day before ``before``; an error without any."""
    days = transactions(warehouse, before)
    first = warehouse.to_pyarrow(days.day.min().name("d").as_table()).column("d")[0].as_py()
    if first is None:
        raise InputError(
            f"no completed orders before {before}: load orders (memberlens ingest orders "
            "FILE) before fitting the churn model"
        )
    day: date = first
    return day
