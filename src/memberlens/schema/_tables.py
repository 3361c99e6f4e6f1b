"""The canonical raw tables (DESIGN: canonical data model).

This module is the single source of truth for column names, types, keys and
checks; validation, storage DDL, ``memberlens dictionary`` and the README's data
model reference are all generated from it.
"""

from __future__ import annotations

from memberlens.schema.contracts import Check, Column, ColumnType, Table

S, INT, D = ColumnType.STRING, ColumnType.INTEGER, ColumnType.DECIMAL
B, DT, TS, J = ColumnType.BOOLEAN, ColumnType.DATE, ColumnType.TIMESTAMP, ColumnType.JSON

_SOURCE = Column("source", S, "System the row came from (e.g. pos, app, cdnow).", required=True)
_MEMBER_KEY = Column(
    "source_member_key", S, "The source system's own member key; member_map resolves it."
)

EVENT_TYPES = (
    "view", "search", "favorite", "add_to_cart", "remove_from_cart", "checkout", "purchase",
    "review", "share", "login", "logout", "identify", "open", "click", "signup", "visit",
)  # fmt: skip
FEEDBACK_KINDS = ("review", "complaint", "survey", "consult")
ORDER_STATUSES = ("completed", "pending", "cancelled", "refunded", "returned")
REFUND_STATUSES = ("refunded", "returned")
GENDERS = ("female", "male", "other", "unknown")
CONSENT_PURPOSES = ("marketing", "personalisation", "analytics", "profiling")
CONSENT_CHANNELS = ("email", "sms", "push", "wechat", "phone", "*")
AGE_BANDS = ("<18", "18-24", "25-34", "35-44", "45-54", "55-64", "65+")

MEMBERS = Table(
    name="members",
    description="Registered members, one row per source record (a person may have several).",
    key=("source", "source_member_key"),
    time_column="signup_at",
    columns=(
        _SOURCE,
        Column("source_member_key", S, "The source system's own member key.", required=True),
        Column("name", S, "Full name.", personal=True),
        Column("gender", S, "Gender as declared.", allowed=GENDERS),
        Column("birth_date", DT, "Date of birth.", personal=True, check=Check.AGE_0_120),
        Column("birth_md", S, "Birthday as MM-DD, for birthday journeys.", derived=True),
        Column("age_band", S, "Age band at import time.", derived=True, allowed=AGE_BANDS),
        Column("phone", S, "Mobile number, stored as E.164.", personal=True, check=Check.PHONE),
        Column("email", S, "E-mail address.", personal=True, check=Check.EMAIL),
        Column("address", S, "Postal address.", personal=True),
        Column("city", S, "City."),
        Column("region", S, "Region or province."),
        Column("occupation", S, "Occupation."),
        Column("education", S, "Highest education."),
        Column("signup_at", TS, "Registration time (UTC)."),
        Column("signup_channel", S, "Where the member registered (store, app, web, ...)."),
        Column("timezone", S, "IANA time zone used for scheduling, e.g. Asia/Shanghai."),
        Column("locale", S, "Preferred language, e.g. zh-CN, zh-TW, en."),
        Column("attributes", J, "Further source attributes as a JSON object."),
        Column("email_bidx", S, "Keyed hash of the normalised e-mail (blind index).", derived=True),
        Column("phone_bidx", S, "Keyed hash of the E.164 phone (blind index).", derived=True),
    ),
    identifier_columns=("crm_id", "wechat_openid", "device_id"),
)

PRODUCTS = Table(
    name="products",
    description="The product catalogue.",
    key=("product_id",),
    member_keyed=False,
    columns=(
        Column("product_id", S, "Product id.", required=True),
        Column("source", S, "System the row came from.", required=True),
        Column("name", S, "Product name."),
        Column("category", S, "Category."),
        Column("subcategory", S, "Subcategory."),
        Column("brand", S, "Brand."),
        Column("price", D, "List price.", check=Check.NON_NEGATIVE, unit="currency"),
        Column("tags", S, "Comma-separated product tags."),
        Column("in_stock", B, "Whether the product can be sold now."),
    ),
)

ORDERS = Table(
    name="orders",
    description="Orders (purchases); refunds carry a refund status.",
    key=("source", "order_id"),
    time_column="ordered_at",
    columns=(
        _SOURCE,
        Column("order_id", S, "Order id, unique within the source.", required=True),
        _MEMBER_KEY,
        Column("ordered_at", TS, "When the order was placed (UTC).", required=True),
        Column("channel", S, "Sales channel (store, app, web, mini_program, ...)."),
        Column("store", S, "Store id or name."),
        Column("region", S, "Region of the sale."),
        Column(
            "total_amount",
            D,
            "Amount paid (empty when the source has no prices).",
            check=Check.NON_NEGATIVE,
            unit="currency",
        ),
        Column(
            "discount_amount", D, "Discount granted.", check=Check.NON_NEGATIVE, unit="currency"
        ),
        Column("coupon_code", S, "Coupon used, if any."),
        Column("status", S, "Order status.", allowed=ORDER_STATUSES),
        Column("shipped_at", TS, "When the order shipped (UTC)."),
    ),
)

ORDER_ITEMS = Table(
    name="order_items",
    description="Order lines.",
    key=("source", "order_id", "line_no"),
    member_keyed=False,
    columns=(
        _SOURCE,
        Column("order_id", S, "Order id (links to orders).", required=True),
        Column(
            "line_no", INT, "Line number within the order.", required=True, check=Check.POSITIVE
        ),
        Column("product_id", S, "Product id (links to products)."),
        Column("quantity", INT, "Units.", check=Check.POSITIVE),
        Column("unit_price", D, "Price per unit.", check=Check.NON_NEGATIVE, unit="currency"),
        Column("amount", D, "Line amount.", check=Check.NON_NEGATIVE, unit="currency"),
    ),
)

EVENTS = Table(
    name="events",
    description="Behaviour events from apps, web and stores.",
    key=("event_id",),
    time_column="occurred_at",
    columns=(
        Column("event_id", S, "Event id (content hash when the source has none).", required=True),
        _SOURCE,
        _MEMBER_KEY,
        Column("anonymous_id", S, "Device or cookie id for events before login."),
        Column("event_type", S, "What happened.", required=True, allowed=EVENT_TYPES),
        Column("occurred_at", TS, "When it happened (UTC).", required=True),
        Column("product_id", S, "Product involved."),
        Column("category", S, "Category involved."),
        Column("query", S, "Search text."),
        Column("channel", S, "Channel (app, web, store, mini_program, ...)."),
        Column("device", S, "Device type."),
        Column("properties", J, "Further event properties as a JSON object."),
    ),
)

FEEDBACK = Table(
    name="feedback",
    description="Reviews, complaints, survey answers and consultations.",
    key=("feedback_id",),
    time_column="occurred_at",
    columns=(
        Column(
            "feedback_id", S, "Feedback id (content hash when the source has none).", required=True
        ),
        _SOURCE,
        _MEMBER_KEY,
        Column("kind", S, "Kind of feedback.", required=True, allowed=FEEDBACK_KINDS),
        Column("occurred_at", TS, "When it was given (UTC)."),
        Column("rating", INT, "Star rating 1-5.", check=Check.RATING_1_5),
        Column("nps", INT, "Net-promoter answer 0-10.", check=Check.NPS_0_10),
        Column("text", S, "Free text."),
        Column("product_id", S, "Product concerned."),
        Column("channel", S, "Where it was given."),
        Column("properties", J, "Further source fields as a JSON object."),
    ),
)

TOUCHES = Table(
    name="touches",
    description="Messages sent to members and what they did with them.",
    key=("touch_id",),
    time_column="sent_at",
    columns=(
        Column("touch_id", S, "Touch id.", required=True),
        _SOURCE,
        Column("source_member_key", S, "Member the message went to.", required=True),
        Column("campaign_id", S, "Campaign that sent it."),
        Column("variant", S, "Experiment variant or control."),
        Column("channel", S, "email, sms, push, wechat, ..."),
        Column("sent_at", TS, "Sent (UTC).", required=True),
        Column("delivered_at", TS, "Delivered (UTC)."),
        Column("opened_at", TS, "Opened (UTC)."),
        Column("clicked_at", TS, "Clicked (UTC)."),
        Column("converted_at", TS, "Converted (UTC)."),
        Column("bounced", B, "Bounced."),
        Column("cost", D, "Cost of sending.", check=Check.NON_NEGATIVE, unit="currency"),
    ),
)

CONSENTS = Table(
    name="consents",
    description="The consent ledger: every grant and withdrawal (append-only).",
    key=("source", "source_member_key", "purpose", "channel", "recorded_at"),
    time_column="recorded_at",
    columns=(
        _SOURCE,
        Column("source_member_key", S, "Member the consent belongs to.", required=True),
        Column(
            "purpose", S, "What the data may be used for.", required=True, allowed=CONSENT_PURPOSES
        ),
        Column(
            "channel",
            S,
            "Channel, or * for purposes without one.",
            required=True,
            allowed=CONSENT_CHANNELS,
        ),
        Column("recorded_at", TS, "When the member said it (UTC).", required=True),
        Column("granted", B, "True for a grant, false for a withdrawal.", required=True),
        Column("policy_version", S, "Version of the privacy policy shown."),
    ),
)

RAW_TABLES: dict[str, Table] = {
    t.name: t for t in (MEMBERS, PRODUCTS, ORDERS, ORDER_ITEMS, EVENTS, FEEDBACK, TOUCHES, CONSENTS)
}
