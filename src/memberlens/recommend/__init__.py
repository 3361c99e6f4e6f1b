"""Recommend: the right product for this member, now — with evidence.

Algorithms behind one small interface (fit, scores, explain), business rules and
re-ranking per scenario, offline evaluation with honest splits and bootstrap
intervals, and precomputed lists the request path serves (docs/recommendations.md).

Built so far: interactions from orders and events (``_interactions``), the splits
(``_split``), popularity, item-kNN, user-kNN and category affinity
(``_algorithms``), evaluation runs (``_evaluate``) and the top-k metrics with their
bootstrap intervals (``_metrics``).
"""

from memberlens.recommend._algorithms import (
    CategoryAffinity,
    ItemKnn,
    Popularity,
    Recommender,
    UserKnn,
    top_k,
)
from memberlens.recommend._catalogue import ALGORITHMS
from memberlens.recommend._evaluate import Run, choose, compare, evaluate, run
from memberlens.recommend._factors import Als, Bpr
from memberlens.recommend._interactions import (
    DEFAULT_WEIGHTS,
    Interactions,
    day_number,
    load_interactions,
)
from memberlens.recommend._metrics import (
    METRICS,
    Scored,
    paired_difference,
    score_lists,
    summarise,
)
from memberlens.recommend._split import SPLITS, Split, by_time, leave_last_out, stratified

__all__ = [
    "ALGORITHMS",
    "DEFAULT_WEIGHTS",
    "METRICS",
    "SPLITS",
    "Als",
    "Bpr",
    "CategoryAffinity",
    "Interactions",
    "ItemKnn",
    "Popularity",
    "Recommender",
    "Run",
    "Scored",
    "Split",
    "UserKnn",
    "by_time",
    "choose",
    "compare",
    "day_number",
    "evaluate",
    "leave_last_out",
    "load_interactions",
    "paired_difference",
    "run",
    "score_lists",
    "stratified",
    "summarise",
    "top_k",
]
