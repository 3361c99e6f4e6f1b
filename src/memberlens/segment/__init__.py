"""Segment: who belongs together, and what is bought together.

Basket analysis today: baskets from orders (or a member's day), frequent itemsets
by FP-growth and association rules with support, confidence, lift, leverage and
conviction (docs/segments.md). RFM, lifecycle stages, clustering and saved segments
grow here too.
"""

from memberlens.segment._baskets import basket_rules, build_baskets
from memberlens.segment._rules import mine_rules
from memberlens.segment.contracts import (
    AssociationRule,
    BasketItem,
    BasketKey,
    BasketParams,
    BasketRules,
    Baskets,
    FrequentItemset,
    NoBaskets,
    RankBy,
    RuleHit,
    TooManyItemsets,
)

__all__ = [
    "AssociationRule",
    "BasketItem",
    "BasketKey",
    "BasketParams",
    "BasketRules",
    "Baskets",
    "FrequentItemset",
    "NoBaskets",
    "RankBy",
    "RuleHit",
    "TooManyItemsets",
    "basket_rules",
    "build_baskets",
    "mine_rules",
]
