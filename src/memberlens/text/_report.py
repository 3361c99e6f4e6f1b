"""The feedback report: sentiment trend, pain points with quotes, NPS and CSAT by group.

What the console's feedback page and ``memberlens text report`` show, for feedback
given in ``[since, cutoff)``: reads ``feedback`` with the text step's
``feedback_insights``, the latest ``member_tiers`` and ``segment_members`` snapshots
(for NPS and CSAT by tier and segment) and the feedback's own channel. Pain points
are the aspects of the lexicon ranked by negative mentions, each with the most
negative clauses as quotes (the feedback id and product named, so a quote leads to
its product); keywords and topics are those of the negative feedback. Feedback
without a date is reported apart, as ``undated``: no window can hold it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict
from datetime import UTC, date, datetime
from typing import Any, Literal

import numpy as np

from memberlens.store import Warehouse
from memberlens.text._aspects import Aspect, aspect_sentiment
from memberlens.text._keywords import keywords, topics, trend
from memberlens.text._step import TABLE
from memberlens.text._surveys import csat, csat_by, csat_trend, nps, nps_by, nps_trend

Period = Literal["week", "month"]
MIN_GROUP = 5  # NPS / CSAT of smaller groups are left out: their intervals say nothing


def _naive(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def _latest(warehouse: Warehouse, table: str, cutoff: datetime) -> date | None:
    if not warehouse.has_table(table):
        return None
    found = warehouse.scalar(
        f"SELECT max(snapshot_date) FROM {table} WHERE snapshot_date <= ?", [cutoff.date()]
    )
    return found if isinstance(found, date) else None


def _rows(
    warehouse: Warehouse, since: datetime, cutoff: datetime, *, undated: bool = False
) -> list[dict[str, Any]]:
    """The feedback given in ``[since, cutoff)``, or (``undated``) all without a date."""
    tiers_on = _latest(warehouse, "member_tiers", cutoff)
    tiers = (
        "LEFT JOIN (SELECT member_id, tier FROM member_tiers WHERE snapshot_date = ?) t "
        "USING (member_id)"
        if tiers_on
        else "LEFT JOIN (SELECT NULL::VARCHAR AS member_id, NULL::VARCHAR AS tier) t "
        "USING (member_id)"
    )
    params: list[Any] = [tiers_on] if tiers_on else []
    rows = warehouse.fetch_all(
        f"""
        SELECT f.feedback_id, f.kind, f.occurred_at, f.rating, f.nps, f.text, f.product_id,
               f.channel, m.member_id, t.tier, i.sentiment, i.sentiment_label, i.complaint
        FROM feedback f
        LEFT JOIN member_map m
          ON m.source = f.source AND m.source_member_key = f.source_member_key
        {tiers}
        LEFT JOIN {TABLE} i USING (feedback_id)
        WHERE {"f.occurred_at IS NULL" if undated else "f.occurred_at >= ? AND f.occurred_at < ?"}
        ORDER BY f.occurred_at, f.feedback_id
        """,
        params if undated else [*params, since, cutoff],
    )
    names = ("feedback_id", "kind", "occurred_at", "rating", "nps", "text", "product_id",
             "channel", "member_id", "tier", "sentiment", "label", "complaint")  # fmt: skip
    return [dict(zip(names, r, strict=True)) for r in rows]


def _segments_of(warehouse: Warehouse, cutoff: datetime) -> dict[str, list[str]]:
    """Saved segments of each member in the latest snapshot."""
    on = _latest(warehouse, "segment_members", cutoff)
    if on is None:
        return {}
    out: dict[str, list[str]] = {}
    for member_id, name in warehouse.fetch_all(
        "SELECT member_id, segment FROM segment_members WHERE snapshot_date = ? ORDER BY segment",
        [on],
    ):
        out.setdefault(member_id, []).append(name)
    return out


def _survey(
    rows: Sequence[dict[str, Any]], segments: dict[str, list[str]], period: Period | None
) -> dict[str, Any]:
    """NPS of answers with a score, CSAT of ratings: overall, by tier, channel, segment
    and (unless ``period`` is None: undated rows) period."""
    scored = [r for r in rows if r["nps"] is not None]
    rated = [r for r in rows if r["rating"] is not None]

    def by_segment(picked: Sequence[dict[str, Any]], key: str) -> tuple[list[str], list[Any]]:
        groups: list[str] = []
        values: list[Any] = []
        for r in picked:
            for name in segments.get(r["member_id"] or "", []):
                groups.append(name)
                values.append(r[key])
        return groups, values

    def grouped(fn: Callable[..., list[Any]], picked: Sequence[dict[str, Any]], key: str) -> Any:
        return {
            "tier": [asdict(g) for g in fn([r["tier"] for r in picked], [r[key] for r in picked],
                                           min_n=MIN_GROUP)],
            "channel": [asdict(g) for g in fn([r["channel"] for r in picked],
                                              [r[key] for r in picked], min_n=MIN_GROUP)],
            "segment": [asdict(g) for g in fn(*by_segment(picked, key), min_n=MIN_GROUP)],
        }  # fmt: skip

    days = [r["occurred_at"] for r in scored]
    rated_days = [r["occurred_at"] for r in rated]
    return {
        "nps": {
            "overall": asdict(nps([r["nps"] for r in scored])),
            "by": grouped(nps_by, scored, "nps"),
            "trend": [asdict(p) for p in nps_trend(days, [r["nps"] for r in scored],
                                                   period=period)] if period else [],
        },
        "csat": {
            "overall": asdict(csat([r["rating"] for r in rated])),
            "by": grouped(csat_by, rated, "rating"),
            "trend": [asdict(p) for p in csat_trend(rated_days, [r["rating"] for r in rated],
                                                    period=period)] if period else [],
        },
    }  # fmt: skip


def feedback_report(
    warehouse: Warehouse,
    *,
    since: datetime,
    cutoff: datetime,
    aspects: Sequence[Aspect],
    positive: Callable[[Sequence[str]], np.ndarray],
    period: Period = "month",
    quotes: int = 3,
    top: int = 15,
) -> dict[str, Any]:
    """The report of feedback given in ``[since, cutoff)`` (see the module doc).

    Feedback without a date (``occurred_at`` empty, as in review exports) lies in no
    window: ``undated`` reports it apart — the same counts, sentiment, pain points,
    keywords, topics, products, NPS and CSAT, without trends — or is None when every
    row has a date.
    """
    since, cutoff = _naive(since), _naive(cutoff)
    loaded = warehouse.has_table("feedback")
    rows = _rows(warehouse, since, cutoff) if loaded else []
    undated = _rows(warehouse, since, cutoff, undated=True) if loaded else []
    segments = _segments_of(warehouse, cutoff)

    def summary(picked: list[dict[str, Any]], trend_period: Period | None) -> dict[str, Any]:
        return {
            **_summary(picked, aspects, positive, quotes=quotes, top=top),
            **_survey(picked, segments, trend_period),
        }

    texts = [r for r in rows if _has_text(r)]
    return {
        "since": since.isoformat(),
        "cutoff": cutoff.isoformat(),
        **summary(rows, period),
        "sentiment_trend": [
            {"start": start, "count": count, "mean_sentiment": round(mean, 4)}
            for start, count, mean in trend(
                [r["occurred_at"] for r in texts],
                [r["sentiment"] for r in texts],
                period=period,
            )
        ],
        "undated": summary(undated, None) if undated else None,
    }


def _has_text(row: dict[str, Any]) -> bool:
    return bool(row["text"] and str(row["text"]).strip())


def _summary(
    rows: list[dict[str, Any]],
    aspects: Sequence[Aspect],
    positive: Callable[[Sequence[str]], np.ndarray],
    *,
    quotes: int,
    top: int,
) -> dict[str, Any]:
    """Counts, sentiment, pain points with quotes, keywords, topics and products of
    ``rows`` (the parts of the report that need no dates)."""
    texts = [r for r in rows if _has_text(r)]
    negative = [r for r in texts if r["label"] == "negative"]
    kinds: dict[str, int] = {}
    for r in rows:
        kinds[r["kind"]] = kinds.get(r["kind"], 0) + 1
    found = topics([str(r["text"]) for r in negative])
    return {
        "feedback": len(rows),
        "with_text": len(texts),
        "by_kind": dict(sorted(kinds.items())),
        "complaints": sum(1 for r in rows if r["complaint"]),
        "negative": len(negative),
        "sentiment": _sentiment(texts),
        "pain_points": _pain_points(texts, aspects, positive, quotes),
        "keywords": [
            {"term": t, "score": s} for t, s in keywords([str(r["text"]) for r in negative], k=top)
        ],
        "topics": [
            {"index": t.index, "size": t.size, "terms": [w for w, _ in t.terms]}
            for t in found.topics
        ],
        "products": _products(rows, top),
    }


def _sentiment(texts: list[dict[str, Any]]) -> dict[str, Any]:
    """How many texts were scored, their mean sentiment (-1..1) and count per label."""
    scores = [float(r["sentiment"]) for r in texts if r["sentiment"] is not None]
    labels = [r["label"] for r in texts]
    return {
        "scored": len(scores),
        "mean": round(sum(scores) / len(scores), 4) if scores else None,
        **{name: labels.count(name) for name in ("positive", "neutral", "negative")},
    }


def _pain_points(
    texts: list[dict[str, Any]],
    aspects: Sequence[Aspect],
    positive: Callable[[Sequence[str]], np.ndarray],
    quotes: int,
) -> list[dict[str, Any]]:
    points = aspect_sentiment([str(r["text"]) for r in texts], aspects, positive, quotes=quotes)
    pain = []
    for summary in points:
        item = asdict(summary)
        item["quotes"] = [
            {
                "feedback_id": texts[q.text_index]["feedback_id"],
                "product_id": texts[q.text_index]["product_id"],
                "occurred_at": texts[q.text_index]["occurred_at"],
                "clause": q.clause,
                "positive": round(q.positive, 4),
            }
            for q in summary.quotes
        ]
        pain.append(item)
    return pain


def _products(rows: list[dict[str, Any]], top: int) -> list[dict[str, Any]]:
    """The products with the most negative feedback (negative or a complaint)."""
    products: dict[str, list[int]] = {}
    for r in rows:
        if r["product_id"] and r["label"] is not None:
            seen = products.setdefault(r["product_id"], [0, 0])
            seen[0] += 1
            seen[1] += int(r["label"] == "negative" or bool(r["complaint"]))
    worst = sorted(products.items(), key=lambda kv: (-kv[1][1], -kv[1][0], kv[0]))[:top]
    return [{"product_id": p, "feedback": n, "negative": bad} for p, (n, bad) in worst if bad]
