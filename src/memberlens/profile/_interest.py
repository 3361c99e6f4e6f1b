"""Interest tags: each member's time-decayed interest per product category.

An interaction (an order line, or an event naming a product) of type ``t`` at time
``s`` adds ``w_t · 0.5^(age_days / half_life)`` to its category, where ``age_days`` is
the time from ``s`` to the cut-off. A member's *share* in a category is that sum over
the sum across all their categories; the categories with share >= ``min_share``
(at most ``top``, highest first) become interest tags ``interest:<category>`` with the
share as weight. As a member moves from baby formula to toddler food, the old
interest decays and the new one's share grows.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import ibis
import ibis.expr.types as ir

from memberlens.core.settings import TagsSettings
from memberlens.profile import _features_activity as act
from memberlens.profile import _features_orders as od
from memberlens.store import Warehouse

PREFIX = "interest:"
_DAY_SECONDS = 86_400.0


def interest_shares(
    warehouse: Warehouse, cutoff: datetime, settings: TagsSettings
) -> ir.Table | None:
    """Per member and category: ``score`` (decayed weight), ``share`` and ``rank`` (1 = top).

    Every category a member interacted with in the window is a row; callers filter by
    ``share`` and ``rank``. ``cutoff`` is naive UTC, like the warehouse's times. None
    when no interaction type has a positive weight.
    """
    start = cutoff - timedelta(days=settings.interest_window_days)
    weights = settings.interest_weights
    parts: list[ir.Table] = []
    if weights.get("purchase", 0) > 0:
        lines = od.order_frames(warehouse, cutoff).lines
        lines = lines.filter(lines.ordered_at >= start, lines.category.notnull())
        parts.append(
            lines.select(
                "member_id",
                "category",
                at=lines.ordered_at,
                weight=ibis.literal(float(weights["purchase"])),
            )
        )
    kinds = {k: float(v) for k, v in weights.items() if v > 0}
    if kinds:
        events = act.event_frame(warehouse, cutoff)
        events = events.filter(events.occurred_at >= start, events.event_type.isin(list(kinds)))
        products = warehouse.table("products").select("product_id", "category")
        named = events.inner_join(products, "product_id")
        named = named.filter(named.category.notnull())
        weight = named.event_type.cases(*kinds.items(), else_=0.0)
        parts.append(named.select("member_id", "category", at=named.occurred_at, weight=weight))
    if not parts:
        return None
    rows = parts[0] if len(parts) == 1 else parts[0].union(parts[1], distinct=False)
    age_days = (ibis.literal(cutoff).epoch_seconds() - rows.at.epoch_seconds()) / _DAY_SECONDS
    decay = ibis.literal(0.5).pow(age_days / settings.interest_half_life_days)
    scored = rows.mutate(score=rows.weight * decay)
    per = scored.group_by("member_id", "category").aggregate(score=scored.score.sum())
    per = per.filter(per.score > 0)
    member = ibis.window(group_by="member_id")
    ranked = ibis.window(group_by="member_id", order_by=[ibis.desc("score"), "category"])
    return per.mutate(
        share=per.score / per.score.sum().over(member),
        rank=ibis.row_number().over(ranked) + 1,
    )


def interest_tags(shares: ir.Table, settings: TagsSettings) -> ir.Table:
    """The shares that become tags: ``member_id, tag, weight``."""
    kept = shares.filter(
        shares.share >= settings.interest_min_share, shares.rank <= settings.interest_top
    )
    return kept.select("member_id", tag=ibis.literal(PREFIX) + kept.category, weight=kept.share)
