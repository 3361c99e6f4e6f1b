"""What crosses the segment boundary: baskets, frequent itemsets, association rules."""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from functools import cached_property
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from memberlens.core.errors import MemberlensError, UsageError

BasketItem = Literal["product", "category"]  # what one item of a basket is
BasketKey = Literal["order", "member_day"]  # what one basket is
RankBy = Literal["confidence", "lift", "support"]


class NoBaskets(MemberlensError, LookupError):
    """The warehouse holds no basket to mine with the options given."""

    code = "NO_BASKETS"


class TooManyItemsets(MemberlensError, ValueError):
    """``min_support`` is so low that the frequent itemsets would not fit in memory."""

    code = "TOO_MANY_ITEMSETS"


@dataclass(frozen=True)
class BasketParams:
    """How baskets are formed and which itemsets and rules are kept.

    Thresholds are inclusive (``support >= min_support``, and so on), as in
    mlxtend. ``max_len`` bounds the size of an itemset (antecedent plus
    consequent); ``None`` means no bound.
    """

    by: BasketItem = "product"
    basket: BasketKey = "order"
    min_support: float = 0.001
    min_confidence: float = 0.0
    min_lift: float = 1.0
    max_len: int | None = 3
    since: datetime | None = None  # orders placed at or after (UTC)
    until: datetime | None = None  # orders placed before (UTC)

    def __post_init__(self) -> None:
        if not 0.0 < self.min_support <= 1.0:
            raise UsageError(
                f"min_support is a share of baskets in (0, 1], e.g. 0.001 for one basket "
                f"in a thousand; got {self.min_support}"
            )
        if not 0.0 <= self.min_confidence <= 1.0:
            raise UsageError(f"min_confidence must be in [0, 1], got {self.min_confidence}")
        if not self.min_lift >= 0.0:
            raise UsageError(f"min_lift must be 0 or more, got {self.min_lift}")
        if self.max_len is not None and self.max_len < 1:
            raise UsageError(f"max_len must be 1 or more, got {self.max_len}")
        if self.by not in ("product", "category"):
            raise UsageError(f"by must be 'product' or 'category', got {self.by!r}")
        if self.basket not in ("order", "member_day"):
            raise UsageError(f"basket must be 'order' or 'member_day', got {self.basket!r}")


@dataclass(frozen=True, eq=False)
class Baskets:
    """Transactions in compressed sparse rows: basket ``b`` holds the items
    ``items[indices[indptr[b]:indptr[b + 1]]]`` (distinct, in no particular order)."""

    items: tuple[str, ...]  # the vocabulary, sorted
    indptr: npt.NDArray[np.int64]
    indices: npt.NDArray[np.int64]

    @property
    def n_baskets(self) -> int:
        return len(self.indptr) - 1

    def codes(self) -> Iterator[npt.NDArray[np.int64]]:
        """Each basket's item codes (positions in :attr:`items`)."""
        for b in range(self.n_baskets):
            yield self.indices[self.indptr[b] : self.indptr[b + 1]]

    def as_lists(self) -> list[list[str]]:
        """Each basket's items as sorted names (for small data and comparisons)."""
        return [sorted(self.items[i] for i in codes) for codes in self.codes()]

    @classmethod
    def from_lists(cls, baskets: Iterable[Iterable[str]]) -> Baskets:
        """Baskets from item names; repeats within a basket count once."""
        sets = [set(b) for b in baskets]
        vocab = tuple(sorted(set().union(*sets)))
        code = {name: i for i, name in enumerate(vocab)}
        lengths = np.array([len(s) for s in sets], dtype=np.int64)
        indptr = np.concatenate([np.zeros(1, np.int64), np.cumsum(lengths, dtype=np.int64)])
        flat = [code[name] for s in sets for name in sorted(s)]
        return cls(vocab, indptr, np.asarray(flat, dtype=np.int64))


@dataclass(frozen=True)
class FrequentItemset:
    items: tuple[str, ...]  # sorted
    count: int  # baskets holding every item
    support: float  # count / baskets


@dataclass(frozen=True)
class AssociationRule:
    """``antecedent -> consequent`` with the measures of Agrawal et al. (1993) and of
    "Dynamic itemset counting and implication rules" (SIGMOD 1997); definitions in
    docs/segments.md."""

    antecedent: tuple[str, ...]  # sorted
    consequent: tuple[str, ...]  # sorted
    count: int  # baskets holding both sides
    support: float
    antecedent_support: float
    consequent_support: float
    confidence: float
    lift: float
    leverage: float
    conviction: float  # inf when confidence is 1

    def to_json(self) -> dict[str, Any]:
        return {
            "antecedent": list(self.antecedent),
            "consequent": list(self.consequent),
            "count": self.count,
            "support": self.support,
            "antecedent_support": self.antecedent_support,
            "consequent_support": self.consequent_support,
            "confidence": self.confidence,
            "lift": self.lift,
            "leverage": self.leverage,
            "conviction": None if math.isinf(self.conviction) else self.conviction,
        }


@dataclass(frozen=True)
class RuleHit:
    """A consequent item suggested for a set of items, with the best rule that fired."""

    item: str
    rule: AssociationRule

    @property
    def reason(self) -> str:
        return "bought together with " + ", ".join(self.rule.antecedent)


@dataclass(frozen=True)
class BasketRules:
    """The mined itemsets and rules; rules ranked by lift, confidence, support, then
    antecedent and consequent, so the order is the same on every run."""

    params: BasketParams
    n_baskets: int
    n_items: int  # distinct items in the baskets
    itemsets: tuple[FrequentItemset, ...] = field(repr=False)
    rules: tuple[AssociationRule, ...] = field(repr=False)

    @cached_property
    def _by_first_item(self) -> dict[str, tuple[int, ...]]:
        # Each rule is filed under its antecedent's smallest item, so a look-up visits
        # a rule at most once and only rules that can fire.
        index: dict[str, list[int]] = {}
        for position, rule in enumerate(self.rules):
            index.setdefault(rule.antecedent[0], []).append(position)
        return {k: tuple(v) for k, v in index.items()}

    def firing(self, items: Iterable[str]) -> tuple[AssociationRule, ...]:
        """Rules whose antecedent lies within ``items``, in rank order."""
        have = set(items)
        found = sorted(
            position
            for first in have
            for position in self._by_first_item.get(first, ())
            if have.issuperset(self.rules[position].antecedent)
        )
        return tuple(self.rules[position] for position in found)

    def consequents(
        self, items: Iterable[str], *, rank_by: RankBy = "confidence", limit: int | None = None
    ) -> tuple[RuleHit, ...]:
        """Items the rules suggest for a basket or history ``items`` (never one of them).

        Each suggested item carries the best firing rule that names it, best by
        ``rank_by`` (ties: confidence, lift, support, then the rule order).

        Examples
        --------
        >>> from memberlens.segment import BasketParams, Baskets, mine_rules
        >>> baskets = Baskets.from_lists([["a", "b"], ["a", "b"], ["a", "c"]])
        >>> rules = mine_rules(baskets, BasketParams(min_support=0.6, min_lift=0.0))
        >>> [(h.item, round(h.rule.confidence, 3)) for h in rules.consequents(["a"])]
        [('b', 0.667)]
        """
        have = set(items)
        best: dict[str, AssociationRule] = {}
        for rule in self.firing(have):
            for item in rule.consequent:
                if item not in have and _better(rule, best.get(item), rank_by):
                    best[item] = rule
        ordered = sorted(best.items(), key=lambda kv: (*_score(kv[1], rank_by), kv[0]))
        return tuple(RuleHit(item, rule) for item, rule in ordered[:limit])

    def to_json(self, *, top: int | None = None) -> dict[str, Any]:
        p = self.params
        return {
            "by": p.by,
            "basket": p.basket,
            "min_support": p.min_support,
            "min_confidence": p.min_confidence,
            "min_lift": p.min_lift,
            "max_len": p.max_len,
            "baskets": self.n_baskets,
            "items": self.n_items,
            "itemsets": len(self.itemsets),
            "rules_total": len(self.rules),
            "rules": [r.to_json() for r in self.rules[:top]],
        }


def _score(rule: AssociationRule, rank_by: RankBy) -> tuple[float, float, float, float]:
    """Sort key: smaller is better."""
    first = getattr(rule, rank_by)
    return (-first, -rule.confidence, -rule.lift, -rule.support)


def _better(rule: AssociationRule, than: AssociationRule | None, rank_by: RankBy) -> bool:
    # Rules arrive in rank order, so an equal score keeps the earlier rule.
    return than is None or _score(rule, rank_by) < _score(than, rank_by)


class SegmentError(MemberlensError, ValueError):
    """A segment that cannot be saved or found: the message names the fix."""

    code = "BAD_SEGMENT"


class NoSnapshot(MemberlensError, LookupError):
    """Nothing to evaluate a rule on: no refresh has computed features yet."""

    code = "NO_SNAPSHOT"


@dataclass(frozen=True)
class SavedSegment:
    """A saved segment: its rule and who owns it; ``members`` as of ``snapshot_date``."""

    name: str
    rule: str
    description: str
    owner: str
    created_by: str
    created_at: datetime
    updated_at: datetime
    members: int | None = None  # in the latest snapshot that evaluated it
    snapshot_date: date | None = None
    trend: tuple[tuple[date, int], ...] = ()  # (snapshot, members), oldest first

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "rule": self.rule,
            "description": self.description,
            "owner": self.owner,
            "created_by": self.created_by,
            "created_at": self.created_at.isoformat() + "Z",
            "updated_at": self.updated_at.isoformat() + "Z",
            "members": self.members,
            "snapshot_date": self.snapshot_date.isoformat() if self.snapshot_date else None,
            "trend": [{"snapshot_date": d.isoformat(), "members": n} for d, n in self.trend],
        }


@dataclass(frozen=True)
class SegmentPreview:
    """How many members a rule selects in a snapshot, and a few of them."""

    rule: str
    snapshot_date: date
    members: int
    of: int  # members in the snapshot
    sample: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "snapshot_date": self.snapshot_date.isoformat(),
            "members": self.members,
            "of": self.of,
            "sample": list(self.sample),
        }


@dataclass(frozen=True)
class SegmentRun:
    """What one run of the segments step wrote."""

    snapshot_date: date
    rfm: dict[str, int]  # named RFM segment -> members
    lifecycle: dict[str, int]  # stage -> members
    clusters: dict[str, Any]  # k, silhouette, cluster name -> members
    segments: dict[str, int]  # saved segment -> members
    entered: int
    exited: int

    def to_json(self) -> dict[str, Any]:
        return {
            "snapshot_date": self.snapshot_date.isoformat(),
            "rfm": self.rfm,
            "lifecycle": self.lifecycle,
            "clusters": self.clusters,
            "segments": self.segments,
            "entered": self.entered,
            "exited": self.exited,
        }


MemberSort = Literal["value", "risk", "recency"]
SortOrder = Literal["asc", "desc"]
# The order a sort key reads best in: most valuable, riskiest, most recent buyer first.
NATURAL_ORDER: dict[str, SortOrder] = {"value": "desc", "risk": "desc", "recency": "asc"}
PAGE_SIZES = (25, 50, 100, 200)


@dataclass(frozen=True)
class MemberQuery:
    """Which members to list and how: a saved segment, a tier and a lifecycle stage to
    keep (None: any); the sort key — ``value`` (CLV), ``risk`` (churn risk) or
    ``recency`` (days since the last purchase) — and its order (None: the key's natural
    one, :data:`NATURAL_ORDER`); the page (from 1) and its size."""

    segment: str | None = None
    tier: str | None = None
    stage: str | None = None
    sort: MemberSort = "value"
    order: SortOrder | None = None
    page: int = 1
    size: int = 50

    def __post_init__(self) -> None:
        if self.sort not in NATURAL_ORDER:
            raise UsageError(f"sort by value, risk or recency, not {self.sort!r}")
        if self.order not in (None, "asc", "desc"):
            raise UsageError(f"order is asc or desc, not {self.order!r}")
        if self.page < 1 or self.size not in PAGE_SIZES:
            raise UsageError(
                f"page starts at 1 and a page holds {', '.join(map(str, PAGE_SIZES))} "
                f"members (got page {self.page}, size {self.size})"
            )

    @property
    def direction(self) -> SortOrder:
        return self.order or NATURAL_ORDER[self.sort]


@dataclass(frozen=True)
class MemberRow:
    """One member of a list: who (personal values masked) and what the refresh derived."""

    member_id: str
    sources: tuple[str, ...]
    name: str | None
    phone: str | None
    email: str | None
    city: str | None
    tier: str | None
    stage: str | None
    clv: float | None
    churn_risk: float | None
    churn_band: str | None
    recency_days: int | None
    frequency: int | None
    monetary: float | None


@dataclass(frozen=True)
class MemberList:
    """A page of members of the snapshot ``snapshot_date`` matching ``query``; ``total``
    of them in all; and what the filters may choose from (the saved segments, the tiers
    and stages of the snapshot)."""

    snapshot_date: date
    query: MemberQuery
    total: int
    rows: tuple[MemberRow, ...]
    segments: tuple[str, ...]
    tiers: tuple[str, ...]
    stages: tuple[str, ...]

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.query.size))

    def to_json(self) -> dict[str, Any]:
        return {
            "snapshot_date": self.snapshot_date.isoformat(),
            "query": {**asdict(self.query), "order": self.query.direction},
            "total": self.total,
            "pages": self.pages,
            "members": [{**asdict(r), "sources": list(r.sources)} for r in self.rows],
            "segments": list(self.segments),
            "tiers": list(self.tiers),
            "stages": list(self.stages),
        }
