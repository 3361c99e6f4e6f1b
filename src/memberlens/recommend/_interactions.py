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
    # One pass over the records (the events' join to members is the costly part): per
    # member, product, kind, day and category; the categories are settled below.
    keys = ["member_id", "product_id", "kind", "day", "category"]
    fine = grain.group_by(keys).aggregate(count=grain.count()).order_by(keys).to_pyarrow()
    if fine.num_rows == 0:
        raise InputError(
            "no member interacted with a product: nothing to recommend from (orders need "
            "order lines with product ids; events need product_id)"
        )
    return _index(fine, weights)


def _codes(column: pa.ChunkedArray | pa.Array) -> tuple[npt.NDArray[np.str_], Ints]:
    """The sorted distinct strings of ``column`` and each row's index into them (what
    ``np.unique(..., return_inverse=True)`` gives, without a Python string per row)."""
    whole = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    encoded = whole.dictionary_encode()
    values = np.asarray(encoded.dictionary.to_pylist(), dtype=str)
    order = np.argsort(values, kind="stable")
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    return values[order], rank[encoded.indices.to_numpy(zero_copy_only=False)]


def _index(fine: pa.Table, weights: Mapping[str, float]) -> Interactions:
    """Records from rows per (member, product, kind, day, category), in that order:
    a record sums its day's rows over categories; a product's category is the one its
    rows name most often (ties: the smallest name)."""
    users, user = _codes(fine.column("member_id"))
    items, item = _codes(fine.column("product_id"))
    kinds, kind_code = _codes(fine.column("kind"))
    # date32 counts days since 1970-01-01
    day = fine.column("day").cast(pa.int32()).to_numpy().astype(np.int64)
    count = fine.column("count").to_numpy().astype(np.int64)
    new = np.r_[True, (np.diff(user) != 0) | (np.diff(item) != 0)
                | (np.diff(kind_code) != 0) | (np.diff(day) != 0)]  # fmt: skip
    first = np.flatnonzero(new)
    summed = np.add.reduceat(count, first).astype(np.float64)
    kind = kinds[kind_code[first]]
    base = np.asarray([weights[k] for k in kinds.tolist()], dtype=np.float64)[kind_code[first]]
    names, category = _categories(fine, item, count, len(items))
    return Interactions(
        users=users,
        items=items,
        user=user[first],
        item=item[first],
        kind=kind,
        day=day[first],
        weight=base * (1.0 + np.log2(summed)),
        category=category,
        categories=names,
    )


def _categories(
    fine: pa.Table, item: Ints, count: Ints, n_items: int
) -> tuple[tuple[str, ...], Ints]:
    """Per item its most frequent category over the rows naming one (ties: the
    smallest name), as an index into the sorted names chosen; UNKNOWN for none."""
    named = np.flatnonzero(fine.column("category").is_valid().to_numpy(zero_copy_only=False))
    category = np.full(n_items, UNKNOWN, dtype=np.int64)
    if not len(named):
        return (), category
    values, code = _codes(fine.column("category").take(pa.array(named)))
    pair = item[named] * len(values) + code
    pairs, at = np.unique(pair, return_inverse=True)
    n = np.bincount(at, weights=count[named])
    owner, cat = pairs // len(values), pairs % len(values)
    order = np.lexsort((cat, -n, owner))  # names are sorted: a smaller code, a smaller name
    first = order[np.r_[True, owner[order][1:] != owner[order][:-1]]]
    chosen = np.unique(cat[first])
    category[owner[first]] = np.searchsorted(chosen, cat[first])
    return tuple(values[chosen].tolist()), category


def day_number(value: date) -> int:
    """Days since 1970-01-01, the unit of :attr:`Interactions.day`."""
    return (value - date(1970, 1, 1)).days


def day_of(number: int) -> date:
    return date(1970, 1, 1) + timedelta(days=int(number))
