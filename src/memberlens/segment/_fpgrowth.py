"""Frequent itemsets by FP-growth (Han, Pei & Yin, 2000), exact, on item codes.

The transactions are compressed once into an FP-tree: items ordered by descending
frequency so that shared prefixes share nodes, identical transactions counted
together. Mining walks the header table; for each item it gathers the item's
conditional pattern base (the prefix paths above its nodes, with the nodes'
counts), keeps the items frequent within that base, builds the conditional tree
and recurses. Every frequent itemset is reported exactly once, with its exact
count; nothing is sampled or approximated.

The tree is held in flat lists (parent, item, count per node) rather than node
objects: fewer allocations, and a path walk is a chain of list look-ups.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np
import numpy.typing as npt

from memberlens.segment.contracts import TooManyItemsets

MAX_ITEMSETS = 2_000_000  # beyond this the rules would not fit in memory either
Itemset = tuple[int, ...]


class _Tree:
    """An FP-tree: node 0 is the root; ``nodes[item]`` lists the item's nodes."""

    def __init__(self) -> None:
        self.parent: list[int] = [-1]
        self.item: list[int] = [-1]
        self.count: list[int] = [0]
        self.children: list[dict[int, int]] = [{}]
        self.nodes: dict[int, list[int]] = {}

    def insert(self, path: Sequence[int], count: int) -> None:
        node = 0
        for item in path:
            child = self.children[node].get(item)
            if child is None:
                child = len(self.item)
                self.parent.append(node)
                self.item.append(item)
                self.count.append(0)
                self.children.append({})
                self.children[node][item] = child
                self.nodes.setdefault(item, []).append(child)
            self.count[child] += count
            node = child

    def support(self, item: int) -> int:
        return sum(self.count[n] for n in self.nodes[item])

    def prefix_paths(self, item: int) -> list[tuple[list[int], int]]:
        """The conditional pattern base of ``item``: root-to-parent paths and counts."""
        base = []
        for node in self.nodes[item]:
            path = []
            up = self.parent[node]
            while up > 0:
                path.append(self.item[up])
                up = self.parent[up]
            if path:
                path.reverse()
                base.append((path, self.count[node]))
        return base


def min_count_for(min_support: float, n_baskets: int) -> int:
    """The smallest count ``c`` with ``c / n_baskets >= min_support`` (the float test
    the supports are reported with, so thresholds never disagree by one)."""
    c = max(1, int(min_support * n_baskets))
    while c / n_baskets < min_support:
        c += 1
    while c > 1 and (c - 1) / n_baskets >= min_support:
        c -= 1
    return c


def fpgrowth(
    transactions: Iterable[npt.NDArray[np.int64]], *, min_count: int, max_len: int | None
) -> dict[Itemset, int]:
    """Every itemset held by at least ``min_count`` transactions, with its count.

    Parameters
    ----------
    transactions
        Item codes per transaction (distinct within a transaction).
    min_count
        Minimum number of transactions (absolute support), at least 1.
    max_len
        Largest itemset size to report, or ``None`` for no bound.

    Returns
    -------
    dict
        Sorted item-code tuples to their counts.

    Examples
    --------
    >>> baskets = [np.array(t) for t in ([0, 1], [0, 1, 2], [0, 2], [1])]
    >>> sorted(fpgrowth(baskets, min_count=2, max_len=None).items())
    [((0,), 3), ((0, 1), 2), ((0, 2), 2), ((1,), 3), ((2,), 2)]
    """
    merged = Counter(tuple(int(i) for i in t) for t in transactions)
    counts: Counter[int] = Counter()
    for items, n in merged.items():
        for item in items:
            counts[item] += n
    # Descending frequency, ties by code: a fixed order, so the tree is deterministic.
    order = sorted((i for i, c in counts.items() if c >= min_count), key=lambda i: (-counts[i], i))
    rank = {item: r for r, item in enumerate(order)}
    tree = _Tree()
    for items, n in merged.items():
        path = sorted((i for i in items if i in rank), key=rank.__getitem__)
        if path:
            tree.insert(path, n)
    found: dict[Itemset, int] = {}
    _mine(tree, (), min_count=min_count, max_len=max_len, rank=rank, found=found)
    return found


def _mine(
    tree: _Tree,
    suffix: Itemset,
    *,
    min_count: int,
    max_len: int | None,
    rank: dict[int, int],
    found: dict[Itemset, int],
) -> None:
    # Least frequent first, as in the paper; any order gives the same itemsets.
    for item in sorted(tree.nodes, key=rank.__getitem__, reverse=True):
        itemset = (item, *suffix)
        found[tuple(sorted(itemset))] = tree.support(item)
        if len(found) > MAX_ITEMSETS:
            raise TooManyItemsets(
                f"more than {MAX_ITEMSETS:,} frequent itemsets: raise min_support or lower max_len"
            )
        if max_len is not None and len(itemset) >= max_len:
            continue
        base = tree.prefix_paths(item)
        local: Counter[int] = Counter()
        for path, n in base:
            for i in path:
                local[i] += n
        keep = {i for i, c in local.items() if c >= min_count}
        if not keep:
            continue
        conditional = _Tree()
        for path, n in base:
            kept = [i for i in path if i in keep]  # paths are already in rank order
            if kept:
                conditional.insert(kept, n)
        _mine(conditional, itemset, min_count=min_count, max_len=max_len, rank=rank, found=found)
