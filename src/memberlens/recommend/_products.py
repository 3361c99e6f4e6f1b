"""The product catalogue, aligned to the interactions' item index.

Rules (stock, price band, excluded categories), content similarity and reasons read
products by item index; :func:`with_catalogue` first widens the interactions' items to
every catalogue product, so items nobody has touched yet (new items) have an index
that content similarity can score.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from memberlens.recommend._interactions import UNKNOWN, Interactions
from memberlens.store import Warehouse

Strs = npt.NDArray[np.object_]


@dataclass(frozen=True)
class Products:
    """Per item of an :class:`Interactions` (same order): what the catalogue says.

    Items the catalogue does not list have empty text, no price and count as in stock;
    ``category`` falls back to the interactions' modal category.
    """

    ids: npt.NDArray[np.str_]
    name: Strs
    category: Strs
    subcategory: Strs
    brand: Strs
    tags: Strs
    price: npt.NDArray[np.float64]  # NaN when unknown
    in_stock: npt.NDArray[np.bool_]
    listed: npt.NDArray[np.bool_]  # the catalogue has a row for it

    def __len__(self) -> int:
        return len(self.ids)

    def label(self, item: int) -> str:
        """How a reason names an item: its name, else its id."""
        return str(self.name[item] or self.ids[item])


def _catalogue_rows(warehouse: Warehouse) -> dict[str, dict[str, object]]:
    if not warehouse.has_table("products"):
        return {}
    t = warehouse.table("products")
    # A product loaded from several sources: the row of the smallest source wins.
    rows = warehouse.to_pyarrow(t.order_by(["product_id", "source"])).to_pylist()
    out: dict[str, dict[str, object]] = {}
    for row in rows:
        out.setdefault(str(row["product_id"]), row)
    return out


def with_catalogue(data: Interactions, warehouse: Warehouse) -> Interactions:
    """``data`` over every item it has plus every catalogue product it lacks.

    Records keep their meaning; item indices are remapped into the wider, sorted list.
    A catalogue category unknown to ``data`` joins its category list.
    """
    catalogue = _catalogue_rows(warehouse)
    extra = sorted(set(catalogue) - set(data.items.tolist()))
    if not extra:
        return data
    items = np.asarray(sorted([*data.items.tolist(), *extra]), dtype=str)
    remap = np.searchsorted(items, data.items)
    fresh = {str(catalogue[p]["category"]) for p in extra if catalogue[p]["category"]}
    names = sorted(set(data.categories) | fresh)
    code = {n: i for i, n in enumerate(names)}
    category = np.full(len(items), UNKNOWN, dtype=np.int64)
    old = data.category
    known = old != UNKNOWN
    category[remap[known]] = [code[data.categories[c]] for c in old[known].tolist()]
    for p in extra:
        value = catalogue[p]["category"]
        if value:
            category[int(np.searchsorted(items, p))] = code[str(value)]
    return replace(
        data,
        items=items,
        item=remap[data.item].astype(np.int64),
        category=category,
        categories=tuple(names),
    )


def load_products(warehouse: Warehouse, data: Interactions | npt.NDArray[np.str_]) -> Products:
    """The catalogue's facts for each of ``data``'s items (or of the product ids given)."""
    catalogue = _catalogue_rows(warehouse)
    ids = data.items if isinstance(data, Interactions) else np.asarray(data, dtype=str)
    n = len(ids)

    def column(field: str) -> Strs:
        return np.asarray(
            [str(catalogue.get(p, {}).get(field) or "") for p in ids.tolist()], dtype=object
        )

    category = column("category")
    if isinstance(data, Interactions):
        for i in np.flatnonzero(category == "").tolist():
            if data.category[i] != UNKNOWN:
                category[i] = data.categories[data.category[i]]
    price = np.full(n, np.nan)
    in_stock = np.ones(n, dtype=bool)
    for i, p in enumerate(ids.tolist()):
        row = catalogue.get(p)
        if row is None:
            continue
        if row.get("price") is not None:
            price[i] = float(row["price"])  # type: ignore[arg-type]
        if row.get("in_stock") is not None:
            in_stock[i] = bool(row["in_stock"])
    return Products(
        ids=ids,
        name=column("name"),
        category=category,
        subcategory=column("subcategory"),
        brand=column("brand"),
        tags=column("tags"),
        price=price,
        in_stock=in_stock,
        listed=np.asarray([p in catalogue for p in ids.tolist()], dtype=bool),
    )
