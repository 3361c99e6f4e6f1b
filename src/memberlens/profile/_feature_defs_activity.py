"""Feature definitions, part two: behaviour, feedback, messages and loyalty."""

from __future__ import annotations

from memberlens.profile._feature_defs import (
    ACTIVE_WINDOWS,
    CART_WINDOW_DAYS,
    FLT,
    INT,
    STR,
    feature,
)

_BEHAVIOUR = [
    feature(
        "product_views",
        INT,
        "events",
        "behaviour",
        "events",
        (
            "Distinct products viewed.",
            "count of distinct product_id over view events (stitched events included)",
            "浏览过的商品数",
        ),
    ),
    feature(
        "view_to_buy",
        FLT,
        "share 0-1",
        "behaviour",
        "events, orders, order_items",
        (
            "Browse to buy conversion: share of viewed products bought after the first view.",
            "viewed products p with a purchase of p (purchase event or kept order line) at or "
            "after the first view of p, before the cutoff / product_views; null without views",
            "浏览到购买转化率（浏览后购买的商品占比）",
        ),
    ),
    feature(
        "cart_abandonments",
        INT,
        "events",
        "behaviour",
        "events, orders, order_items",
        (
            f"Adds to cart not followed by a purchase of that product within "
            f"{CART_WINDOW_DAYS} days.",
            f"add_to_cart events with a product at t <= cutoff - {CART_WINDOW_DAYS} days (the "
            f"window has closed) and no purchase of that product in [t, t + "
            f"{CART_WINDOW_DAYS} days)",
            f"加购后 {CART_WINDOW_DAYS} 天内未购买的次数",
        ),
    ),
    feature(
        "favourites",
        INT,
        "events",
        "behaviour",
        "events",
        (
            "Products added to favourites.",
            "count of favorite events",
            "收藏次数",
        ),
    ),
    feature(
        "days_since_last_event",
        INT,
        "days",
        "behaviour",
        "events",
        (
            "Days since the member's last event of any type.",
            "floor((cutoff - max(occurred_at)) / 1 day); null without events",
            "距最近一次行为的天数",
        ),
    ),
    *[
        feature(
            f"active_days_{days}d",
            INT,
            "days",
            "behaviour",
            "events, orders",
            (
                f"Days with any event or order in the last {days} days.",
                f"count of distinct UTC days of events and kept orders in [cutoff - {days} days, "
                "cutoff)",
                f"近 {days} 天活跃天数",
            ),
        )
        for days in ACTIVE_WINDOWS
    ],
]

_FEEDBACK = [
    feature(
        "reviews",
        INT,
        "reviews",
        "feedback",
        "feedback",
        (
            "Reviews written.",
            "count of feedback of kind review",
            "评价数",
        ),
    ),
    feature(
        "avg_rating",
        FLT,
        "stars 1-5",
        "feedback",
        "feedback",
        (
            "Average star rating of the member's reviews.",
            "mean(rating) over reviews with a rating; null without any",
            "评价平均星级",
        ),
    ),
    feature(
        "complaints",
        INT,
        "complaints",
        "feedback",
        "feedback",
        (
            "Complaints made: feedback of kind complaint, or read as a complaint.",
            "count of feedback of kind complaint or flagged complaint in feedback_insights "
            "(text read as clearly negative: [text] complaint_below)",
            "投诉次数（含文本判定为投诉的反馈）",
        ),
    ),
    feature(
        "last_sentiment",
        FLT,
        "score -1 to 1",
        "feedback",
        "feedback, feedback_insights",
        (
            "Sentiment of the member's latest feedback with text (-1 negative … 1 positive).",
            "sentiment in feedback_insights of the latest feedback with text (ties: highest "
            "feedback_id); null without any",
            "最近一条文字反馈的情感（-1 负面 … 1 正面）",
        ),
    ),
    feature(
        "last_nps",
        INT,
        "score 0-10",
        "feedback",
        "feedback",
        (
            "The member's latest net-promoter answer.",
            "nps of the latest feedback with an nps (ties: highest feedback_id); null without",
            "最近一次 NPS 评分",
        ),
    ),
]

_MESSAGES = [
    feature(
        "messages",
        INT,
        "messages",
        "messages",
        "touches",
        (
            "Messages delivered (sent and not bounced).",
            "count of touches with sent_at < cutoff and bounced not true",
            "收到的消息数",
        ),
    ),
    feature(
        "open_rate",
        FLT,
        "share 0-1",
        "messages",
        "touches",
        (
            "Share of delivered messages opened.",
            "messages with opened_at < cutoff / messages; null without messages",
            "消息打开率",
        ),
    ),
    feature(
        "click_rate",
        FLT,
        "share 0-1",
        "messages",
        "touches",
        (
            "Share of delivered messages clicked.",
            "messages with clicked_at < cutoff / messages; null without messages",
            "消息点击率",
        ),
    ),
]

_LOYALTY = [
    feature(
        "points_balance",
        INT,
        "points",
        "loyalty",
        "points_ledger",
        (
            "Points the member holds.",
            "sum(points) of points_ledger movements with occurred_at < cutoff (expiries are "
            "movements of their own, written by the tiers step before this one); 0 without "
            "movements",
            "积分余额",
        ),
    ),
    feature(
        "tier",
        STR,
        "tier",
        "loyalty",
        "member_tiers",
        (
            "The member's tier.",
            "tier in the latest member_tiers snapshot on or before the snapshot date (the "
            "tiers step runs just before this one); null while there is none",
            "会员等级",
        ),
    ),
]


ACTIVITY_FEATURES = (*_BEHAVIOUR, *_FEEDBACK, *_MESSAGES, *_LOYALTY)
