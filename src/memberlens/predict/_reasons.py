"""Churn reasons in plain words, from the model's per-feature contributions.

LightGBM splits each prediction into one contribution per feature (SHAP values on
the log-odds scale: they add up to the member's score). The three features that push
a member's risk up the most become the reasons, each written from the member's own
value: "no purchase for 74 days, 3.1× the usual gap". Features that say the same thing
share one sentence and add up their contributions: recency, the gap ratio and the
BG/NBD inputs (P(alive) and expected purchases, both a reading of how overdue the
member is against their own rhythm) are all "no purchase for N days".
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from memberlens.predict._churn_data import MODEL_FEATURES

REASONS_SHOWN = 3

Values = dict[str, float]


def _n(v: float) -> str:
    return f"{v:,.0f}"


def _pct(v: float) -> str:
    return f"{v:.0%}"


def _money(v: float) -> str:
    return f"{v:,.2f}"


def _plural(v: float, one: str, many: str) -> str:
    return f"{_n(v)} {one if round(v) == 1 else many}"


def _recency(values: Values) -> str:
    days, ratio = values["recency_days"], values.get("gap_ratio", math.nan)
    said = f"no purchase for {_plural(days, 'day', 'days')}"
    if not math.isnan(ratio):
        return f"{said}, {ratio:.1f}× the usual gap"
    return said


def _count(window: str, one: str, many: str, none: str) -> Callable[[Values, str], str]:
    def say(values: Values, name: str) -> str:
        v = values[name]
        return none if v == 0 else f"{_plural(v, one, many)}{window}"

    return say


_SAY: dict[str, Callable[[Values, str], str]] = {
    "recency_days": lambda v, _: _recency(v),
    "gap_ratio": lambda v, _: _recency(v),
    "frequency": lambda v, n: f"{_plural(v[n], 'order', 'orders')} in all",
    "monetary": lambda v, n: f"spent {_money(v[n])} in all",
    "avg_order_value": lambda v, n: f"average order {_money(v[n])}",
    "tenure_days": lambda v, n: f"a member for {_plural(v[n], 'day', 'days')}",
    "interval_mean_days": lambda v, n: f"buys every {_n(v[n])} days on average",
    "interval_std_days": lambda v, n: f"gaps between purchases vary by ±{_n(v[n])} days",
    "spend_30d": lambda v, n: f"spent {_money(v[n])} in the last 30 days",
    "spend_90d": lambda v, n: f"spent {_money(v[n])} in the last 90 days",
    "spend_365d": lambda v, n: f"spent {_money(v[n])} in the last 365 days",
    "orders_30d": _count(" in the last 30 days", "order", "orders", "no order in 30 days"),
    "orders_90d": _count(" in the last 90 days", "order", "orders", "no order in 90 days"),
    "orders_365d": _count(" in the last 365 days", "order", "orders", "no order in a year"),
    "coupon_share": lambda v, n: f"{_pct(v[n])} of orders used a coupon",
    "refund_rate": lambda v, n: f"{_pct(v[n])} of orders refunded or returned",
    "favourite_category_share": lambda v, n: f"{_pct(v[n])} of orders in one category",
    "product_views": _count(" viewed", "product", "products", "viewed no products"),
    "view_to_buy": lambda v, n: f"bought {_pct(v[n])} of the products viewed",
    "cart_abandonments": _count("", "abandoned cart", "abandoned carts", "no abandoned carts"),
    "favourites": _count(" saved", "favourite", "favourites", "no favourites saved"),
    "days_since_last_event": lambda v, n: f"no visit or app activity for {_n(v[n])} days",
    "active_days_30d": lambda v, n: f"active on {_plural(v[n], 'day', 'days')} of the last 30",
    "active_days_90d": lambda v, n: f"active on {_plural(v[n], 'day', 'days')} of the last 90",
    "reviews": _count(" written", "review", "reviews", "no reviews written"),
    "avg_rating": lambda v, n: f"average rating {v[n]:.1f} stars",
    "complaints": _count(" made", "complaint", "complaints", "no complaints"),
    "last_nps": lambda v, n: f"last NPS answer {_n(v[n])} of 10",
    "messages": _count(" received", "message", "messages", "no messages received"),
    "open_rate": lambda v, n: f"opens {_pct(v[n])} of messages",
    "click_rate": lambda v, n: f"clicks {_pct(v[n])} of messages",
    "points_balance": lambda v, n: f"{_plural(v[n], 'point', 'points')} unused",
    "p_alive": lambda v, _: _recency(v),
    "expected_purchases_horizon": lambda v, _: _recency(v),
}
_MISSING = {
    "recency_days": "no purchase yet",
    "gap_ratio": "only one purchase day so far",
    "interval_mean_days": "only one purchase day so far",
    "interval_std_days": "fewer than three purchase days",
    "avg_order_value": "no order amounts",
    "days_since_last_event": "no visits or app activity recorded",
    "view_to_buy": "no product views",
    "avg_rating": "no reviews",
    "last_nps": "no NPS answer",
    "open_rate": "no messages received",
    "click_rate": "no messages received",
}
_RHYTHM = ("recency_days", "gap_ratio", "p_alive", "expected_purchases_horizon")
_GROUP = [("recency_days" if name in _RHYTHM else name) for name in MODEL_FEATURES]


def describe(name: str, values: Values) -> str:
    """The plain-words reading of feature ``name`` for a member with ``values``."""
    if name in _RHYTHM:
        name = "recency_days"
    if math.isnan(values.get(name, math.nan)):
        return _MISSING.get(name, f"{name.replace('_', ' ')} unknown")
    return _SAY[name](values, name)


def reasons(features: np.ndarray, contributions: np.ndarray) -> list[list[dict[str, Any]]]:
    """Per row: up to three reasons, strongest first, from features that raise the risk.

    ``contributions`` is LightGBM's ``pred_contrib`` output (one column per feature and
    a last one for the bias, which is not a reason).
    """
    groups = sorted(set(_GROUP))
    member_of = np.array([groups.index(g) for g in _GROUP])
    out: list[list[dict[str, Any]]] = []
    for row, contrib in zip(features, contributions[:, : len(MODEL_FEATURES)], strict=True):
        values = dict(zip(MODEL_FEATURES, (float(v) for v in row), strict=True))
        totals = np.bincount(member_of, weights=contrib, minlength=len(groups))
        found: list[dict[str, Any]] = []
        for g in np.argsort(-totals, kind="stable")[:REASONS_SHOWN]:
            if totals[g] <= 0:
                break
            name = groups[g]
            value = values[name]
            found.append(
                {
                    "feature": name,
                    "value": None if math.isnan(value) else round(value, 4),
                    "contribution": round(float(totals[g]), 4),
                    "text": describe(name, values),
                }
            )
        out.append(found)
    return out
