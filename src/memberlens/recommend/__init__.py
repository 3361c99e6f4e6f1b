"""Recommend: the right product for this member, now — with evidence.

Algorithms behind one small interface (fit, recommend, explain), business rules and
re-ranking per scenario, offline evaluation with honest splits and bootstrap
intervals, and precomputed lists the request path serves (docs/recommendations.md).

Built so far: the top-k metrics and their bootstrap intervals (``_metrics``).
"""

from memberlens.recommend._metrics import (
    METRICS,
    Scored,
    paired_difference,
    score_lists,
    summarise,
)

__all__ = ["METRICS", "Scored", "paired_difference", "score_lists", "summarise"]
