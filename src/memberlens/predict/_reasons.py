"""Churn reasons in plain words, from the model's per-feature contributions.

LightGBM splits each prediction into one contribution per feature (SHAP values on
the log-odds scale: they add up to the member's score). The three features that push
a member's risk up the most become the reasons, each written from the member's own
value: "no purchase for 74 days, 3.1× the usual gap". Features that say the same thing
share one sentence and add up their contributions: recency, the gap ratio and the
BG/NBD inputs (P(alive) and expected purchases, both a reading of how overdue the
member is against their own rhythm) are all "no purchase for N days".

A reason is stored as a code with its parameters (``no_purchase_for`` with
``{"days": 74, "ratio": 3.1}``), never as a sentence: whoever shows it renders it in
the reader's language from the one catalogue (:mod:`memberlens.core.i18n`), English
for the CLI and by default for the API.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from memberlens.core.i18n import LEGACY, Message, render
from memberlens.predict._churn_data import MODEL_FEATURES

REASONS_SHOWN = 3

Values = dict[str, float]


def _recency(values: Values) -> Message:
    days, ratio = values["recency_days"], values.get("gap_ratio", math.nan)
    if not math.isnan(ratio):
        return Message("no_purchase_for", {"days": days, "ratio": round(ratio, 4)})
    return Message("no_purchase_for_days", {"days": days})


def _said(code: str, key: str = "count", **fixed: Any) -> Callable[[Values, str], Message]:
    """The feature's value as parameter ``key`` of ``code`` (with ``fixed`` ones)."""
    return lambda v, n: Message(code, {key: v[n], **fixed})


def _count(code: str, none: str, **fixed: Any) -> Callable[[Values, str], Message]:
    """A count: ``code`` with it, or ``none`` when it is 0."""
    return lambda v, n: (
        Message(none, fixed) if v[n] == 0 else Message(code, {"count": v[n], **fixed})
    )


_SAY: dict[str, Callable[[Values, str], Message]] = {
    "recency_days": lambda v, _: _recency(v),
    "gap_ratio": lambda v, _: _recency(v),
    "frequency": _said("orders_in_all"),
    "monetary": _said("spent_in_all", "amount"),
    "avg_order_value": _said("average_order", "amount"),
    "tenure_days": _said("member_for", "days"),
    "interval_mean_days": _said("buys_every", "days"),
    "interval_std_days": _said("gaps_vary", "days"),
    "spend_30d": _said("spent_in_last", "amount", days=30),
    "spend_90d": _said("spent_in_last", "amount", days=90),
    "spend_365d": _said("spent_in_last", "amount", days=365),
    "orders_30d": _count("orders_in_last", "no_order_in", days=30),
    "orders_90d": _count("orders_in_last", "no_order_in", days=90),
    "orders_365d": lambda v, n: (
        Message("no_order_in_a_year")
        if v[n] == 0
        else Message("orders_in_last", {"count": v[n], "days": 365})
    ),
    "coupon_share": _said("coupon_share", "share"),
    "refund_rate": _said("refund_share", "share"),
    "favourite_category_share": _said("one_category_share", "share"),
    "product_views": _count("products_viewed", "no_products_viewed"),
    "view_to_buy": _said("view_to_buy", "share"),
    "cart_abandonments": _count("abandoned_carts", "no_abandoned_carts"),
    "favourites": _count("favourites_saved", "no_favourites_saved"),
    "days_since_last_event": _said("no_activity_for", "days"),
    "active_days_30d": _said("active_days", days=30),
    "active_days_90d": _said("active_days", days=90),
    "reviews": _count("reviews_written", "no_reviews_written"),
    "avg_rating": _said("average_rating", "stars"),
    "complaints": _count("complaints_made", "no_complaints"),
    "last_nps": _said("last_nps", "score"),
    "messages": _count("messages_received", "no_messages_received"),
    "open_rate": _said("opens_share", "share"),
    "click_rate": _said("clicks_share", "share"),
    "points_balance": _said("points_unused", "points"),
    "p_alive": lambda v, _: _recency(v),
    "expected_purchases_horizon": lambda v, _: _recency(v),
}
_MISSING = {
    "recency_days": "no_purchase_yet",
    "gap_ratio": "one_purchase_day",
    "interval_mean_days": "one_purchase_day",
    "interval_std_days": "under_three_purchase_days",
    "avg_order_value": "no_order_amounts",
    "days_since_last_event": "no_activity_recorded",
    "view_to_buy": "no_product_views",
    "avg_rating": "no_reviews",
    "last_nps": "no_nps_answer",
    "open_rate": "no_messages_received",
    "click_rate": "no_messages_received",
}
_RHYTHM = ("recency_days", "gap_ratio", "p_alive", "expected_purchases_horizon")
_GROUP = [("recency_days" if name in _RHYTHM else name) for name in MODEL_FEATURES]


def describe(name: str, values: Values) -> Message:
    """The reading of feature ``name`` for a member with ``values``, as a message
    (render it with :func:`memberlens.core.i18n.render`)."""
    if name in _RHYTHM:
        name = "recency_days"
    if math.isnan(values.get(name, math.nan)):
        missing = _MISSING.get(name)
        if missing is None:
            return Message("feature_unknown", {"feature": name.replace("_", " ")})
        return Message(missing)
    return _SAY[name](values, name)


def reason_message(reason: Mapping[str, Any]) -> Message:
    """A stored reason's message; one stored before codes (``text`` only) as that text."""
    if "code" in reason:
        return Message.from_json(reason)
    return Message(LEGACY, {"text": str(reason.get("text", ""))})


def with_texts(
    reasons: list[dict[str, Any]], locale: str = "en", *, currency: str | None = None
) -> list[dict[str, Any]]:
    """Stored reasons with their ``text`` rendered in ``locale`` (English by default:
    the words the API and the CLI have always given)."""
    return [{**r, "text": render(reason_message(r), locale, currency=currency)} for r in reasons]


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
                    **describe(name, values).to_json(),
                }
            )
        out.append(found)
    return out
