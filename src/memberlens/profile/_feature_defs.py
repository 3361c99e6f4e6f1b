"""Feature definitions, part one: the helpers and the purchase and category features.

The registry and its public functions are in ``_feature_catalogue``.
"""

from __future__ import annotations

from memberlens.profile.contracts import FeatureDef, FeatureType

CART_WINDOW_DAYS = 7  # an add to cart not bought within this many days is abandoned
WINDOWS = (30, 90, 365)  # spend_Nd / orders_Nd
ACTIVE_WINDOWS = (30, 90)  # active_days_Nd

INT, DEC, FLT, STR = FeatureType.INTEGER, FeatureType.DECIMAL, FeatureType.FLOAT, FeatureType.STRING
_KEPT = "kept orders (status empty, completed or pending; not cancelled, refunded or returned)"


def feature(
    name: str, kind: FeatureType, unit: str, group: str, source: str, text: tuple[str, str, str]
) -> FeatureDef:
    description, formula, zh = text
    return FeatureDef(name, kind, unit, description, formula, source, group, zh)


def _windows() -> list[FeatureDef]:
    made = []
    for days in WINDOWS:
        made.append(
            feature(
                f"spend_{days}d",
                DEC,
                "currency",
                "purchases",
                "orders",
                (
                    f"Money spent in the last {days} days.",
                    f"sum(total_amount) of {_KEPT} with cutoff - {days} days <= ordered_at "
                    "< cutoff; 0 when none; null when the member's orders carry no amounts",
                    f"近 {days} 天消费金额",
                ),
            )
        )
        made.append(
            feature(
                f"orders_{days}d",
                INT,
                "orders",
                "purchases",
                "orders",
                (
                    f"Orders in the last {days} days.",
                    f"count of kept orders with cutoff - {days} days <= ordered_at < cutoff",
                    f"近 {days} 天订单数",
                ),
            )
        )
    return made


PURCHASE_FEATURES = [
    feature(
        "recency_days",
        INT,
        "days",
        "purchases",
        "orders",
        (
            "Days since the last purchase.",
            f"floor((cutoff - max(ordered_at)) / 1 day) over {_KEPT}; null without orders",
            "距最近一次购买的天数",
        ),
    ),
    feature(
        "frequency",
        INT,
        "orders",
        "purchases",
        "orders",
        (
            "Number of orders.",
            "count of kept orders before the cutoff",
            "订单数（购买频次）",
        ),
    ),
    feature(
        "monetary",
        DEC,
        "currency",
        "purchases",
        "orders",
        (
            "Total money spent.",
            "sum(total_amount) of kept orders; 0 without orders; null when no order has an amount",
            "累计消费金额",
        ),
    ),
    feature(
        "avg_order_value",
        DEC,
        "currency",
        "purchases",
        "orders",
        (
            "Average order value.",
            "monetary / count of kept orders with an amount, rounded to 0.01; null when none",
            "平均客单价",
        ),
    ),
    feature(
        "tenure_days",
        INT,
        "days",
        "member",
        "members, orders",
        (
            "Days the member has been with us.",
            "floor((cutoff - min(earliest signup_at before the cutoff, first order)) / 1 day)",
            "会员时长（天）",
        ),
    ),
    feature(
        "interval_mean_days",
        FLT,
        "days",
        "purchases",
        "orders",
        (
            "Mean days between purchase days.",
            "(last purchase day - first purchase day) / (distinct purchase days - 1), UTC days "
            "of kept orders (several orders on one day are one purchase day); null below 2 days",
            "平均购买间隔（天）",
        ),
    ),
    feature(
        "interval_std_days",
        FLT,
        "days",
        "purchases",
        "orders",
        (
            "Spread (sample standard deviation) of the days between purchase days.",
            "stddev_samp of the gaps between consecutive distinct purchase days; null below 3 days",
            "购买间隔标准差（天）",
        ),
    ),
    *_windows(),
    feature(
        "preferred_channel",
        STR,
        "channel",
        "purchases",
        "orders",
        (
            "The channel of most orders.",
            "mode of channel over kept orders with a channel; ties go to the first name A-Z",
            "最常用购买渠道",
        ),
    ),
    feature(
        "preferred_weekday",
        INT,
        "ISO weekday 1-7",
        "purchases",
        "orders, members",
        (
            "The weekday of most orders (1 = Monday), in the member's time zone.",
            "mode of ISO weekday of ordered_at in members.timezone (else the workspace "
            "default_timezone) over kept orders; ties go to the earliest day",
            "最常购买的星期（1 = 周一，会员所在时区）",
        ),
    ),
    feature(
        "preferred_hour",
        INT,
        "hour 0-23",
        "purchases",
        "orders, members",
        (
            "The hour of day of most orders, in the member's time zone.",
            "mode of hour of ordered_at in the member's time zone over kept orders; ties go "
            "to the earliest hour",
            "最常购买的时段（0-23 点，会员所在时区）",
        ),
    ),
    feature(
        "coupon_share",
        FLT,
        "share 0-1",
        "purchases",
        "orders",
        (
            "Share of orders that used a coupon or discount (discount sensitivity).",
            "kept orders with a non-empty coupon_code or discount_amount > 0 / kept orders; "
            "null without orders",
            "使用优惠券或折扣的订单占比（价格敏感度）",
        ),
    ),
    feature(
        "refund_rate",
        FLT,
        "share 0-1",
        "purchases",
        "orders",
        (
            "Share of orders refunded or returned.",
            "orders with status refunded or returned / orders not cancelled; null without any",
            "退款或退货订单占比",
        ),
    ),
]

CATEGORY_FEATURES = [
    feature(
        "favourite_category",
        STR,
        "category",
        "categories",
        "order_items, products",
        (
            "The category in most orders (all shares: member_category_shares).",
            "products.category of order lines of kept orders, ranked by orders containing it, "
            "then spend, then name A-Z; null when no line has a category",
            "最偏好品类",
        ),
    ),
    feature(
        "favourite_category_share",
        FLT,
        "share 0-1",
        "categories",
        "order_items, products",
        (
            "Share of the member's orders that contain the favourite category.",
            "kept orders with a line in favourite_category / kept orders",
            "含最偏好品类的订单占比",
        ),
    ),
]
