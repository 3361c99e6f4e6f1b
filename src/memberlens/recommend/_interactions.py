"""Who touched which product, how, and when: the input of every recommender.

Purchases are the order lines of kept orders (not cancelled, not refunded); views,
add-to-carts, favourites and purchases recorded as events come from ``events``
(stitched anonymous events included). Both are resolved to members through identity
and counted per member, product, kind and UTC day — the grain the splits and the
decay work at.

A record's weight is its kind's weight (``purchase > add_to_cart > favorite > view``,
configurable) times ``1 + log2(count)`` (ten views of a product on one day say more
than one, not ten times more), times ``0.5 ** (age_days / half_life_days)`` when a
half-life is given. The user-item matrix sums the weights of each pair's records.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta

import ibis
import numpy as np
import numpy.typing as npt
import pyarrow as pa
from scipy import sparse

from memberlens import identity, profile
from memberlens.core.errors import InputError
from memberlens.store import Warehouse

DEFAULT_WEIGHTS: dict[str, float] = {
    "purchase": 5.0,
    "add_to_cart": 3.0,
    "favorite": 2.0,
    "view": 1.0,
}
UNKNOWN = -1  # category code of an item without one

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Interactions:
    """Records (one per member, product, kind and day) over indexed users and items."""

    users: npt.NDArray[np.str_]  # member ids, sorted; a user index points here
    items: npt.NDArray[np.str_]  # product ids, sorted
    user: Ints  # per record
    item: Ints
    kind: npt.NDArray[np.str_]
    day: Ints  # days since 1970-01-01 (UTC)
    weight: Floats  # kind weight · (1 + log2(count)), before any decay
    category: Ints  # per item: index into ``categories``, or UNKNOWN
    categories: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.user)

    def subset(self, keep: npt.NDArray[np.bool_]) -> Interactions:
        """The records where ``keep`` holds, over the same users and items."""
        return replace(
            self,
            user=self.user[keep],
            item=self.item[keep],
            kind=self.kind[keep],
            day=self.day[keep],
            weight=self.weight[keep],
        )

    def matrix(
        self, *, half_life_days: float | None = None, today: int | None = None
    ) -> sparse.csr_matrix:
        """Users × items, each cell the summed (decayed) weight of the pair's records.

        Ages count from ``today`` (days since the epoch; default the newest record).
        """
        weight = self.weight
        if half_life_days is not None and len(self):
            now = self.day.max() if today is None else today
            weight = weight * 0.5 ** (np.maximum(now - self.day, 0) / half_life_days)
        shape = (len(self.users), len(self.items))
        m = sparse.csr_matrix((weight, (self.user, self.item)), shape=shape)
        m.sum_duplicates()
        return m

    def popularity(self) -> Floats:
        """Per item, the share of users with any record of it (novelty's ``p``)."""
        pairs = np.unique(self.user * len(self.items) + self.item)
        counts = np.bincount(pairs % len(self.items), minlength=len(self.items))
        return counts / max(len(self.users), 1)


def load_interactions(
    warehouse: Warehouse,
    *,
    before: datetime | None = None,
    weights: Mapping[str, float] | None = None,
) -> Interactions:
    """Every member-product interaction before ``before`` (default: all)."""
    weights = dict(DEFAULT_WEIGHTS if weights is None else weights)
    cutoff = before or datetime.combine(date(9999, 1, 1), time())
    tables = []
    if warehouse.has_table("events") and warehouse.has_table("member_map"):
        ev = identity.events_with_members(warehouse)
        ev = ev.filter(
            ev.occurred_at < cutoff, ev.product_id.notnull(), ev.event_type.isin(list(weights))
        )
        tables.append(
            ev.select("member_id", "product_id", "category", kind=ev.event_type, at=ev.occurred_at)
        )
    # order lines are purchases: read them unless purchases weigh nothing here
    if (
        "purchase" in weights
        and warehouse.has_table("order_items")
        and warehouse.has_table("orders")
    ):
        lines = profile.order_frames(warehouse, cutoff).lines
        lines = lines.filter(lines.product_id.notnull())
        tables.append(
            lines.select(
                "member_id",
                "product_id",
                "category",
                kind=ibis.literal("purchase"),
                at=lines.ordered_at,
            )
        )
    if not tables:
        raise InputError(
            "no orders or events to learn from: ingest orders with order lines, or events "
            "with product ids, first"
        )
    union = tables[0] if len(tables) == 1 else tables[0].union(tables[1])
    grain = union.mutate(day=union.at.date())
    records = (
        grain.group_by(["member_id", "product_id", "kind", "day"])
        .aggregate(count=grain.count())
        .order_by(["member_id", "product_id", "kind", "day"])
        .to_pyarrow()
    )
    if records.num_rows == 0:
        raise InputError(
            "no member interacted with a product: nothing to recommend from (orders need "
            "order lines with product ids; events need product_id)"
        )
    named = grain.filter(grain.category.notnull())
    counted = named.group_by(["product_id", "category"]).aggregate(n=named.count())
    # Per product its most frequent category (ties: the smallest name).
    rank = ibis.row_number().over(
        group_by=counted.product_id, order_by=[ibis.desc(counted.n), counted.category]
    )
    categories = (
        counted.mutate(rank=rank).filter(lambda t: t.rank == 0).select("product_id", "category")
    ).to_pyarrow()
    return _index(records, categories, weights)


def _index(records: pa.Table, categories: pa.Table, weights: Mapping[str, float]) -> Interactions:
    members = np.asarray(records.column("member_id").to_pylist(), dtype=str)
    products = np.asarray(records.column("product_id").to_pylist(), dtype=str)
    users, user = np.unique(members, return_inverse=True)
    items, item = np.unique(products, return_inverse=True)
    kind = np.asarray(records.column("kind").to_pylist(), dtype=str)
    epoch = date(1970, 1, 1)
    day = np.asarray([(d - epoch).days for d in records.column("day").to_pylist()], dtype=np.int64)
    count = np.asarray(records.column("count").to_pylist(), dtype=np.float64)
    base = np.asarray([weights[k] for k in kind.tolist()], dtype=np.float64)
    chosen = dict(
        zip(
            categories.column("product_id").to_pylist(),
            categories.column("category").to_pylist(),
            strict=True,
        )
    )
    names = tuple(sorted(set(chosen.values())))
    code = {name: i for i, name in enumerate(names)}
    category = np.asarray(
        [code[chosen[p]] if p in chosen else UNKNOWN for p in items.tolist()], dtype=np.int64
    )
    return Interactions(
        users=users,
        items=items,
        user=user.astype(np.int64),
        item=item.astype(np.int64),
        kind=kind,
        day=day,
        weight=base * (1.0 + np.log2(count)),
        category=category,
        categories=names,
    )


def day_number(value: date) -> int:
    """Days since 1970-01-01, the unit of :attr:`Interactions.day`."""
    return (value - date(1970, 1, 1)).days


def day_of(number: int) -> date:
    return date(1970, 1, 1) + timedelta(days=int(number))
