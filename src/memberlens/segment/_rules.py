"""Association rules from frequent itemsets (Agrawal, Imielinski & Swami, 1993).

Every frequent itemset ``I`` of two or more items yields one candidate rule per
non-empty proper subset ``A`` of ``I``: ``A -> I \\ A``. Every subset of a frequent
itemset is frequent itself, so all supports are at hand without another pass
over the baskets. Measures, with ``s`` the share of baskets holding a set:

- support ``s(A ∪ C)``; confidence ``s(A ∪ C) / s(A)``;
- lift ``confidence / s(C)``, the "interest" of "Dynamic itemset counting and
  implication rules" (SIGMOD 1997);
- leverage ``s(A ∪ C) - s(A) s(C)`` (Piatetsky-Shapiro, 1991);
- conviction ``(1 - s(C)) / (1 - confidence)``, infinite when confidence is 1
  (the SIGMOD 1997 paper again).
"""

from __future__ import annotations

import math
from itertools import combinations

from memberlens.segment._fpgrowth import Itemset, fpgrowth, min_count_for
from memberlens.segment.contracts import (
    AssociationRule,
    BasketParams,
    BasketRules,
    Baskets,
    FrequentItemset,
)


def mine_rules(baskets: Baskets, params: BasketParams) -> BasketRules:
    """Frequent itemsets by FP-growth and the association rules they support.

    Parameters
    ----------
    baskets
        The transactions (see :func:`build_baskets` or :meth:`Baskets.from_lists`).
    params
        ``min_support`` for itemsets; ``min_confidence`` and ``min_lift`` for rules
        (all inclusive); ``max_len`` bounds the itemset size.

    Returns
    -------
    BasketRules
        Itemsets by descending support, rules by descending lift.

    Examples
    --------
    >>> from memberlens.segment import BasketParams, Baskets, mine_rules
    >>> baskets = Baskets.from_lists([["milk", "bread"], ["milk", "bread"], ["milk"]])
    >>> rules = mine_rules(baskets, BasketParams(min_support=0.5, min_lift=0.0))
    >>> [(r.antecedent, r.consequent, r.confidence) for r in rules.rules]
    [(('bread',), ('milk',), 1.0), (('milk',), ('bread',), 0.6666666666666666)]
    """
    n = baskets.n_baskets
    if n == 0:
        return BasketRules(params, 0, len(baskets.items), (), ())
    min_count = min_count_for(params.min_support, n)
    counts = fpgrowth(baskets.codes(), min_count=min_count, max_len=params.max_len)
    names = baskets.items
    itemsets = sorted(
        (
            FrequentItemset(tuple(sorted(names[i] for i in codes)), c, c / n)
            for codes, c in counts.items()
        ),
        key=lambda s: (-s.count, len(s.items), s.items),
    )
    rules = [
        rule
        for codes, c in counts.items()
        if len(codes) > 1
        for rule in _rules_of(codes, c, counts, n, names)
        if rule.confidence >= params.min_confidence and rule.lift >= params.min_lift
    ]
    rules.sort(key=lambda r: (-r.lift, -r.confidence, -r.support, r.antecedent, r.consequent))
    return BasketRules(params, n, len(names), tuple(itemsets), tuple(rules))


def _rules_of(
    codes: Itemset, count: int, counts: dict[Itemset, int], n: int, names: tuple[str, ...]
) -> list[AssociationRule]:
    """Every rule ``A -> codes \\ A`` of one frequent itemset."""
    out = []
    for size in range(1, len(codes)):
        for antecedent in combinations(codes, size):
            consequent = tuple(i for i in codes if i not in antecedent)
            out.append(_rule(antecedent, consequent, count, counts, n, names))
    return out


def _rule(
    antecedent: Itemset,
    consequent: Itemset,
    count: int,
    counts: dict[Itemset, int],
    n: int,
    names: tuple[str, ...],
) -> AssociationRule:
    support = count / n
    s_a = counts[antecedent] / n
    s_c = counts[consequent] / n
    confidence = count / counts[antecedent]
    lift = confidence / s_c
    conviction = math.inf if confidence >= 1.0 else (1.0 - s_c) / (1.0 - confidence)
    return AssociationRule(
        antecedent=tuple(sorted(names[i] for i in antecedent)),
        consequent=tuple(sorted(names[i] for i in consequent)),
        count=count,
        support=support,
        antecedent_support=s_a,
        consequent_support=s_c,
        confidence=confidence,
        lift=lift,
        leverage=support - s_a * s_c,
        conviction=conviction,
    )
