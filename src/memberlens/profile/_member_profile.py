"""The member 360 beyond the card: features, tags, tier and points history, feedback, messages.

Read from the derived tables of the latest snapshot the refresh wrote (features and
tags), every snapshot of ``member_tiers`` and ``member_points``, the points ledger,
and the member's feedback and message touches through ``member_map``. Feedback text is
not personal data by the schema, but it is shown only as the member wrote it, never
joined to contact fields here. Each feedback row carries what the refresh's text step
read in it (``feedback_insights``: sentiment, its label, the complaint flag and the
aspects with their P(positive)), null where the step has not read it.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

import ibis

from memberlens.profile._feature_catalogue import FEATURES
from memberlens.profile._features import FEATURES_TABLE
from memberlens.profile._tags import TAGS_TABLE
from memberlens.profile.contracts import FeatureValue, MemberCard, MemberProfile, TagValue
from memberlens.store import Warehouse

_KEY = ["source", "source_member_key"]
HISTORY_SHOWN = 24  # snapshots of tiers and points
LEDGER_SHOWN = 50
FEEDBACK_SHOWN = 50
TOUCHES_SHOWN = 50
INSIGHTS = "feedback_insights"  # written by the refresh's text step
_READ = ("sentiment", "sentiment_label", "complaint", "aspects")


def member_profile(warehouse: Warehouse, *, member_id: str) -> MemberProfile:
    """Everything the refresh derived about one member, newest first where it is a list."""
    snapshot = _latest(warehouse, FEATURES_TABLE)
    features: tuple[FeatureValue, ...] = ()
    if snapshot is not None:
        f = warehouse.table(FEATURES_TABLE)
        row = warehouse.to_pyarrow(
            f.filter(f.snapshot_date == snapshot, f.member_id == member_id)
        ).to_pylist()
        if row:
            features = tuple(
                FeatureValue(d.name, row[0].get(d.name), d.unit, d.description, d.description_zh)
                for d in FEATURES
            )
    tags_at = _latest(warehouse, TAGS_TABLE)
    tags: tuple[TagValue, ...] = ()
    if tags_at is not None:
        t = warehouse.table(TAGS_TABLE)
        mine = t.filter(t.snapshot_date == tags_at, t.member_id == member_id)
        mine = mine.order_by(["kind", ibis.desc("weight"), "tag"])
        tags = tuple(
            TagValue(r["tag"], r["kind"], float(r["weight"]))
            for r in warehouse.to_pyarrow(mine).to_pylist()
        )
    return MemberProfile(
        member_id=member_id,
        features_snapshot=snapshot,
        features=features,
        tags_snapshot=tags_at,
        tags=tags,
        tiers=_rows(
            warehouse,
            "member_tiers",
            member_id,
            ["snapshot_date", "tier", "qualifying_value", "since", "previous_tier"],
            "snapshot_date",
            HISTORY_SHOWN,
        ),
        points=_rows(
            warehouse,
            "member_points",
            member_id,
            ["snapshot_date", "balance", "earned_365d", "expiring_points", "next_expiry_at"],
            "snapshot_date",
            HISTORY_SHOWN,
        ),
        ledger=_ledger(warehouse, member_id),
        feedback=_feedback(warehouse, member_id),
        messages=_through_map(
            warehouse,
            "touches",
            member_id,
            ["touch_id", "sent_at", "channel", "campaign_id", "opened_at", "clicked_at"],
            "sent_at",
            TOUCHES_SHOWN,
        ),
    )


def _latest(warehouse: Warehouse, table: str) -> date | None:
    if not warehouse.has_table(table):
        return None
    value = warehouse.scalar(f"SELECT max(snapshot_date) FROM {table}")
    return value if isinstance(value, date) else None


def _rows(
    warehouse: Warehouse, table: str, member_id: str, columns: list[str], newest: str, n: int
) -> tuple[dict[str, Any], ...]:
    if not warehouse.has_table(table):
        return ()
    t = warehouse.table(table)
    chosen = t.filter(t.member_id == member_id).select(*columns)
    return tuple(warehouse.to_pyarrow(chosen.order_by(ibis.desc(newest)).limit(n)).to_pylist())


def _ledger(warehouse: Warehouse, member_id: str) -> tuple[dict[str, Any], ...]:
    """Movements of the member's source records (balances follow member_map)."""
    ledger = warehouse.table("points_ledger")
    mm = warehouse.table("member_map")
    mine = mm.filter(mm.member_id == member_id).select(*_KEY)
    chosen = ledger.semi_join(mine, _KEY).select(
        "occurred_at", "points", "reason", "expires_at", "note"
    )
    newest = chosen.order_by([ibis.desc("occurred_at"), "reason"]).limit(LEDGER_SHOWN)
    return tuple(warehouse.to_pyarrow(newest).to_pylist())


def _feedback(warehouse: Warehouse, member_id: str) -> tuple[dict[str, Any], ...]:
    """The member's newest feedback (ties: highest id first, as ``last_sentiment``
    reads them) with the text step's reading of each; ``aspects`` as a dict."""
    t = warehouse.table("feedback")
    mm = warehouse.table("member_map")
    mine = t.semi_join(mm.filter(mm.member_id == member_id).select(*_KEY), _KEY)
    wanted = ["feedback_id", "occurred_at", "kind", "rating", "nps", "text", "product_id"]
    chosen = mine.select(*[c for c in wanted if c in t.columns])
    if warehouse.has_table(INSIGHTS):
        read = warehouse.table(INSIGHTS).select("feedback_id", *_READ)
        chosen = chosen.left_join(read, "feedback_id").select(*chosen.columns, *_READ)
    newest = chosen.order_by([ibis.desc("occurred_at"), ibis.desc("feedback_id")])
    rows = warehouse.to_pyarrow(newest.limit(FEEDBACK_SHOWN)).to_pylist()
    for row in rows:
        for name in _READ:
            row.setdefault(name, None)
        row["aspects"] = json.loads(row["aspects"]) if row["aspects"] else None
    return tuple(rows)


def _through_map(
    warehouse: Warehouse, table: str, member_id: str, columns: list[str], newest: str, n: int
) -> tuple[dict[str, Any], ...]:
    t = warehouse.table(table)
    mm = warehouse.table("member_map")
    mine = mm.filter(mm.member_id == member_id).select(*_KEY)
    present = [c for c in columns if c in t.columns]
    chosen = t.semi_join(mine, _KEY).select(*present)
    return tuple(warehouse.to_pyarrow(chosen.order_by(ibis.desc(newest)).limit(n)).to_pylist())


def timeline(card: MemberCard, prof: MemberProfile) -> list[dict[str, Any]]:
    """Orders, events, feedback and messages in one list, newest first.

    Each item is ``{"at", "kind", "what", "detail", "facts"}``; items without a time
    come last. ``what`` and ``detail`` say it in English words; ``facts`` holds the
    values they are made of (an order's ``order_id``, ``amount``, ``status``,
    ``channel``; an event's ``event_type``, ``product_id``; feedback's ``kind``,
    ``rating``, ``nps``, ``text``; a message's ``channel``, ``campaign_id`` and
    ``seen``: sent, opened or clicked), for a page that words them in its reader's
    language. The lists it merges are the capped ones the 360 shows.
    """
    items: list[tuple[datetime | None, str, str, str, dict[str, Any]]] = []
    for o in card.orders:
        amount = "" if o.total_amount is None else f"{o.total_amount}"
        facts = {"order_id": o.order_id, "amount": amount or None, "status": o.status,
                 "channel": o.channel}  # fmt: skip
        items.append((o.ordered_at, "order", o.order_id, " ".join(
            x for x in (amount, o.status or "", o.channel or "") if x), facts))  # fmt: skip
    for e in card.events:
        facts = {"event_type": e.event_type, "product_id": e.product_id}
        items.append((e.occurred_at, "event", e.event_type, e.product_id or "", facts))
    for f in prof.feedback:
        rating = f"rating {f['rating']}" if f.get("rating") is not None else ""
        nps = f"NPS {f['nps']}" if f.get("nps") is not None else ""
        facts = {k: f.get(k) for k in ("kind", "rating", "nps", "text")}
        items.append((f.get("occurred_at"), "feedback", str(f.get("kind") or ""),
                      " ".join(x for x in (rating, nps, f.get("text") or "") if x),
                      facts))  # fmt: skip
    for m in prof.messages:
        seen = "clicked" if m.get("clicked_at") else "opened" if m.get("opened_at") else "sent"
        facts = {"channel": m.get("channel"), "campaign_id": m.get("campaign_id"), "seen": seen}
        items.append((m.get("sent_at"), "message", str(m.get("channel") or ""),
                      " ".join(x for x in (m.get("campaign_id") or "", seen) if x),
                      facts))  # fmt: skip
    items.sort(key=lambda i: (i[1], i[2]))  # ties in time: a stable, readable order
    items.sort(key=lambda i: i[0] or datetime.min, reverse=True)
    return [
        {
            "at": at.isoformat() if at else None,
            "kind": kind,
            "what": what,
            "detail": detail,
            "facts": facts,
        }
        for at, kind, what, detail, facts in items
    ]
