"""The identity graph: records are nodes, shared identifiers are edges, members are
its connected components (union-find with path halving and union by size; Tarjan,
"Efficiency of a good but not linear set union algorithm", JACM 1975).

An unmerge must stay undone when the next run sees the same identifiers again, so
components also carry *cannot-link* labels: a split ``s`` gives each record a group,
and two components whose records hold different groups of the same split never join.
Edges are applied in a fixed order, so the outcome is the same on every run.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence


class IdentityGraph:
    """Union-find over ``n`` records with cannot-link labels.

    Examples
    --------
    >>> g = IdentityGraph(4, labels={2: {"s1": "a"}, 3: {"s1": "b"}})
    >>> g.link_all([0, 1, 2]); g.link_all([2, 3])
    >>> sorted(sorted(c) for c in g.components())
    [[0, 1, 2], [3]]
    """

    def __init__(self, n: int, labels: dict[int, dict[str, str]] | None = None) -> None:
        self._parent = list(range(n))
        self._size = [1] * n
        # Labels live on roots only: {split id: group} of every record in the component.
        self._labels: dict[int, dict[str, str]] = {k: dict(v) for k, v in (labels or {}).items()}
        self.refused = 0

    def find(self, i: int) -> int:
        parent = self._parent
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def union(self, a: int, b: int) -> bool:
        """Join the components of ``a`` and ``b`` unless a split keeps them apart."""
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return True
        la, lb = self._labels.get(ra, {}), self._labels.get(rb, {})
        if any(lb.get(split, group) != group for split, group in la.items()):
            self.refused += 1
            return False
        if self._size[ra] < self._size[rb]:
            ra, rb, la, lb = rb, ra, lb, la
        self._parent[rb] = ra
        self._size[ra] += self._size[rb]
        if lb:
            self._labels[ra] = {**la, **lb}
            self._labels.pop(rb, None)
        return True

    def link_all(self, records: Sequence[int]) -> None:
        """Link every record of one identifier (a star from the first)."""
        for other in records[1:]:
            self.union(records[0], other)

    def components(self) -> Iterable[list[int]]:
        groups: dict[int, list[int]] = {}
        for i in range(len(self._parent)):
            groups.setdefault(self.find(i), []).append(i)
        return groups.values()
