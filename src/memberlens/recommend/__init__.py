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
from memberlens.recommend._association import Association
from memberlens.recommend._catalogue import ALGORITHMS
from memberlens.recommend._choice import (
    MODEL,
    Choice,
    register_choice,
    register_evaluation,
    resolve_auto,
)
from memberlens.recommend._content import Content
from memberlens.recommend._evaluate import Run, choose, compare, evaluate, run
from memberlens.recommend._factors import Als, Bpr
from memberlens.recommend._interactions import (
    DEFAULT_WEIGHTS,
    Interactions,
    day_number,
    load_interactions,
)
from memberlens.recommend._lists import Lists, build_lists, check_algorithms
from memberlens.recommend._metrics import (
    METRICS,
    Scored,
    paired_difference,
    score_lists,
    summarise,
)
from memberlens.recommend._products import Products, load_products, with_catalogue
from memberlens.recommend._reasons import reason, reason_code, reason_text
from memberlens.recommend._scenarios import (
    Scenario,
    Scenarios,
    default_scenarios_text,
    load_scenarios,
    parse_scenarios,
)
from memberlens.recommend._split import SPLITS, Split, by_time, leave_last_out, stratified
from memberlens.recommend._step import compute_recommendations, read_lists
from memberlens.recommend._views import list_counts, most_recommended, product_facts

__all__ = [
    "ALGORITHMS",
    "DEFAULT_WEIGHTS",
    "METRICS",
    "MODEL",
    "SPLITS",
    "Als",
    "Association",
    "Bpr",
    "CategoryAffinity",
    "Choice",
    "Content",
    "Interactions",
    "ItemKnn",
    "Lists",
    "Popularity",
    "Products",
    "Recommender",
    "Run",
    "Scenario",
    "Scenarios",
    "Scored",
    "Split",
    "UserKnn",
    "build_lists",
    "by_time",
    "check_algorithms",
    "choose",
    "compare",
    "compute_recommendations",
    "day_number",
    "default_scenarios_text",
    "evaluate",
    "leave_last_out",
    "list_counts",
    "load_interactions",
    "load_products",
    "load_scenarios",
    "most_recommended",
    "paired_difference",
    "parse_scenarios",
    "product_facts",
    "read_lists",
    "reason",
    "reason_code",
    "reason_text",
    "register_choice",
    "register_evaluation",
    "resolve_auto",
    "run",
    "score_lists",
    "stratified",
    "summarise",
    "top_k",
    "with_catalogue",
]
