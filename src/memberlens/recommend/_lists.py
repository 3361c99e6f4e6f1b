"""Precomputed lists: what the refresh's recommendations step writes.

For every *member* scenario, each member with interactions gets up to ``candidates``
items (more than a page: the request-time rules — stock, consent, just bought — drop
from them), chosen by the scenario's algorithm under its rules, re-ranked (MMR,
novelty share, pins) and each with its reason. Members without a list of their own
(no interactions yet: cold start) and members who refused personalisation are served
a non-personalised list: what is trending in their city, else their region, else
everywhere. *Item* scenarios get one list per product.

List ids: a member's own lists use the member id; fallbacks ``@all``,
``@city:NAME``, ``@region:NAME``; item lists ``@item:PRODUCT``.

``auto`` resolves to the production version of the ``recommender`` model in the
registry (written by ``memberlens recommend evaluate``); without one, the refresh
chooses on a validation split of its own data — the fast algorithms, their settings
grids — and registers the choice.
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
from scipy import sparse

from memberlens import predict
from memberlens.core.errors import ConfigError, InputError
from memberlens.recommend._algorithms import Recommender
from memberlens.recommend._catalogue import ALGORITHMS
from memberlens.recommend._evaluate import model_factory, tune
from memberlens.recommend._interactions import (
    Interactions,
    day_number,
    day_of,
    load_interactions,
)
from memberlens.recommend._products import Products, load_products, with_catalogue
from memberlens.recommend._reasons import new_item, reason
from memberlens.recommend._rerank import candidates, eligible, long_tail, mmr_order, with_pins
from memberlens.recommend._scenarios import AUTO, Scenario, Scenarios
from memberlens.recommend._split import stratified
from memberlens.store import StateStore, Warehouse

MODEL = "recommender"
FORMAT = "memberlens-recommender/1"
# What the refresh may choose from when no choice is registered: quick to fit on a
# laptop, in the catalogue's simplest-first order.
REFRESH_CHOICES = ("popularity", "category", "item_knn", "blend", "rrf")
_CHUNK = 1024

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]
LIST_COLUMNS = ("scenario", "list_id", "rank", "product_id", "score", "reason", "algorithm")


@dataclass
class Lists:
    """The step's output: list rows, which fallback serves each member, the catalogue."""

    rows: dict[str, list[Any]] = field(default_factory=lambda: {c: [] for c in LIST_COLUMNS})
    fallback: dict[str, str] = field(default_factory=dict)  # member_id -> list id
    products: Products | None = None
    summary: dict[str, Any] = field(default_factory=dict)

    def add(
        self,
        scenario: str,
        list_id: str,
        product_ids: list[str],
        scores: list[float],
        reasons: list[str],
        algorithm: str,
    ) -> None:
        n = len(product_ids)
        self.rows["scenario"] += [scenario] * n
        self.rows["list_id"] += [list_id] * n
        self.rows["rank"] += list(range(1, n + 1))
        self.rows["product_id"] += product_ids
        self.rows["score"] += [round(float(s), 6) for s in scores]
        self.rows["reason"] += reasons
        self.rows["algorithm"] += [algorithm] * n

    def table(self) -> pa.Table:
        return pa.table(
            {
                "scenario": pa.array(self.rows["scenario"], pa.string()),
                "list_id": pa.array(self.rows["list_id"], pa.string()),
                "rank": pa.array(self.rows["rank"], pa.int32()),
                "product_id": pa.array(self.rows["product_id"], pa.string()),
                "score": pa.array(self.rows["score"], pa.float64()),
                "reason": pa.array(self.rows["reason"], pa.string()),
                "algorithm": pa.array(self.rows["algorithm"], pa.string()),
            }
        )


@dataclass(frozen=True)
class Choice:
    """The algorithm ``auto`` stands for: name, settings, registry version (if any)."""

    algorithm: str
    params: dict[str, Any]
    version: int | None = None

    def label(self) -> str:
        return f"{self.algorithm} v{self.version}" if self.version else self.algorithm


def check_algorithms(scenarios: Scenarios) -> None:
    """Every scenario names a known algorithm (a typo stops the refresh before it runs)."""
    for scenario in scenarios.scenarios.values():
        name = scenario.algorithm
        if name != AUTO and name not in ALGORITHMS:
            raise ConfigError(
                f"{scenarios.origin}: scenario {scenario.name!r} names algorithm {name!r}; "
                f"use auto or one of {', '.join(ALGORITHMS)}"
            )
        if scenario.anchor == "item" and name not in ("item_knn", "content", "association"):
            raise ConfigError(
                f"{scenarios.origin}: item scenario {scenario.name!r} needs an item-to-item "
                "algorithm: item_knn, content or association"
            )


def register_choice(
    state: StateStore,
    root: Path,
    *,
    algorithm: str,
    params: dict[str, Any],
    metrics: dict[str, Any],
    window_end: datetime | None,
    fingerprint: str,
) -> predict.RegisteredModel:
    """Record ``algorithm`` with ``params`` as the production ``recommender`` (what
    ``auto`` means from now on); the same choice on the same data with the same
    figures is not recorded twice."""
    return predict.register_production(
        state,
        root,
        name=MODEL,
        artifact={"format": FORMAT, "algorithm": algorithm, "params": params},
        params={"algorithm": algorithm, **params},
        metrics=metrics,
        window=(None, window_end.date() if window_end else None),
        data_fingerprint=fingerprint,
    )


def register_evaluation(
    state: StateStore, root: Path, result: dict[str, Any], data: Interactions
) -> predict.RegisteredModel:
    """Make an evaluation's default (with the settings that won on validation) what
    ``auto`` means; the whole report rides along as the entry's metrics (the console's
    evaluation page reads it)."""
    name = str(result["default"])
    newest = datetime.combine(day_of(int(data.day.max())), datetime.min.time())
    return register_choice(
        state,
        root,
        algorithm=name,
        params=dict(result["validation"]["params"].get(name, {})),
        metrics={"chosen_by": "evaluate", "evaluation": result},
        window_end=newest,
        fingerprint=fingerprint(data),
    )


def fingerprint(data: Interactions) -> str:
    """What the data looked like: sizes and a digest of the (user, item, day) records."""
    digest = hashlib.sha256()
    digest.update(f"{len(data.users)}:{len(data.items)}:{len(data)}".encode())
    for part in (data.user, data.item, data.day):
        digest.update(np.ascontiguousarray(part).tobytes())
    return digest.hexdigest()


def resolve_auto(state: StateStore, root: Path, data: Interactions, *, cutoff: datetime) -> Choice:
    """The registered choice, else one made now on a validation split and registered."""
    try:
        entry = predict.get_model(state, MODEL)
    except predict.ModelNotFoundError:
        entry = None
    if entry is not None:
        artifact = predict.read_artifact(root, entry)
        if artifact.get("algorithm") in ALGORITHMS:
            return Choice(artifact["algorithm"], dict(artifact.get("params", {})), entry.version)
    try:
        validation = stratified(data, test_ratio=0.25, seed=42)
    except InputError:  # nobody has two items: nothing to validate on
        return Choice("popularity", {})
    tried: dict[str, float] = {}
    settings: dict[str, dict[str, Any]] = {}
    for name in REFRESH_CHOICES:
        settings[name], ndcg = tune(validation, name, k=10)
        tried[name] = max(ndcg.values())
    best = max(tried, key=lambda n: tried[n])  # ties: the simpler
    entry = register_choice(
        state,
        root,
        algorithm=best,
        params=settings[best],
        metrics={"chosen_by": "refresh", "validation_ndcg_at_10": tried, **validation.describe()},
        window_end=cutoff,
        fingerprint=fingerprint(data),
    )
    return Choice(best, settings[best], entry.version)


def _member_places(warehouse: Warehouse) -> dict[str, tuple[str, str]]:
    """Per member: (city, region), each the most frequent among their source records."""
    if not (warehouse.has_table("members") and warehouse.has_table("member_map")):
        return {}
    m = warehouse.table("members").select("source", "source_member_key", "city", "region")
    mm = warehouse.table("member_map").select("source", "source_member_key", "member_id")
    rows = warehouse.to_pyarrow(
        m.inner_join(mm, ["source", "source_member_key"]).select("member_id", "city", "region")
    ).to_pylist()
    counts: dict[str, dict[str, dict[str, int]]] = {}
    for r in rows:
        slot = counts.setdefault(r["member_id"], {"city": {}, "region": {}})
        for key in ("city", "region"):
            if r[key]:
                slot[key][r[key]] = slot[key].get(r[key], 0) + 1

    def top(c: dict[str, int]) -> str:
        return min(c, key=lambda v: (-c[v], v)) if c else ""

    return {mid: (top(c["city"]), top(c["region"])) for mid, c in counts.items()}


class _Builder:
    """One refresh's lists, scenario by scenario."""

    def __init__(
        self,
        data: Interactions,
        products: Products,
        scenarios: Scenarios,
        *,
        today: int,
        auto: Callable[[], Choice],
        progress: Callable[[int], None] | None,
    ) -> None:
        self.data, self.products, self.scenarios = data, products, scenarios
        half_life = scenarios.defaults.half_life_days or None
        self.train = data.matrix(half_life_days=half_life, today=today)
        bought = data.subset(data.kind == "purchase")
        self.bought = bought.matrix().astype(bool).astype(np.float64).tocsr()
        counts = np.asarray((self.train > 0).sum(axis=0), dtype=np.float64).ravel()
        self.novel = long_tail(counts)
        # catalogue products nobody has touched yet: they enter through content
        self.new = (counts == 0) & products.listed
        self._content: Recommender | None = None
        self.category = data.category
        self.auto = functools.cache(auto)
        self.progress = progress
        self.labels = np.asarray(
            [products.name[i] or products.ids[i] for i in range(len(products))], dtype=object
        )
        self._models: dict[str, Recommender] = {}

    def model(self, scenario: Scenario) -> tuple[Recommender, str]:
        if scenario.algorithm == AUTO:
            choice = self.auto()
            name, params, label = choice.algorithm, choice.params, choice.label()
        else:
            name, params, label = scenario.algorithm, {}, scenario.algorithm
        key = json.dumps([name, params], sort_keys=True)
        if key not in self._models:
            model = model_factory(name, params, self.products)()
            model.fit(self.train, self.data)
            model.labels = self.labels
            self._models[key] = model
        return self._models[key], label

    def _rules(self, scenario: Scenario, users: Ints) -> tuple[Any, sparse.csr_matrix]:
        return eligible(
            bought=self.bought,
            users=users,
            category_names=self.products.category,
            price=self.products.price,
            in_stock=self.products.in_stock,
            repurchasable=self.scenarios.repurchasable(scenario),
            excluded=self.scenarios.excluded(scenario),
            price_min=scenario.price_min,
            price_max=scenario.price_max,
        )

    def _boost(self, scenario: Scenario) -> npt.NDArray[np.float64] | None:
        if not scenario.boosts:
            return None
        factor = np.ones(len(self.data.items))
        for product, value in scenario.boosts.items():
            at = np.searchsorted(self.data.items, product)
            if at < len(self.data.items) and self.data.items[at] == product:
                factor[at] = value
        return factor

    def _pins(self, scenario: Scenario) -> Ints:
        index = {p: i for i, p in enumerate(self.data.items.tolist())}
        return np.asarray([index[p] for p in scenario.pins if p in index], dtype=np.int64)

    def _shape(
        self, scenario: Scenario, scores: npt.NDArray[np.float64], users: Ints | None
    ) -> tuple[Ints, npt.NDArray[np.float64], Ints]:
        """Rules, candidates, re-ranking and pins for a block of scores."""
        width = self.scenarios.defaults.candidates
        boost = self._boost(scenario)
        if boost is not None:
            scores = scores * boost
        if users is None:  # a non-personalised list: nothing is "already bought"
            allowed, blocked = self._rules(scenario, np.zeros(0, dtype=np.int64))
            blocked = None
        else:
            allowed, blocked = self._rules(scenario, users)
        items, values = candidates(scores, width, allowed=allowed, blocked=blocked)
        order = mmr_order(
            items,
            values,
            category=self.category,
            novel=self.novel,
            mmr_lambda=scenario.mmr_lambda,
            novelty_share=scenario.novelty_share,
        )
        pins = self._pins(scenario)
        return with_pins(order, pins, allowed)[:, :width], scores, pins

    def content(self) -> Recommender:
        """Content similarity over the catalogue, fitted once (for new items)."""
        if self._content is None:
            self._content = model_factory("content", {}, self.products)()
            self._content.fit(self.train, self.data)
            self._content.labels = self.labels
        return self._content

    def with_new_items(self, scores: Floats, block: Ints) -> Floats:
        """New items' scores from content similarity to what each member has: half the
        member's best score times the item's similarity relative to the member's best
        new-item match — enough to compete for the novelty share's places, never to
        push out items with evidence above half the best."""
        similar = self.content().scores(block)[:, self.new]
        best_new = similar.max(axis=1, keepdims=True)
        best = np.maximum(scores, 0).max(axis=1, keepdims=True)
        relative = np.divide(similar, best_new, out=np.zeros_like(similar), where=best_new > 0)
        scores = scores.copy()
        scores[:, self.new] = 0.5 * best * relative
        return scores

    def member_lists(self, scenario: Scenario, out: Lists) -> int:
        model, label = self.model(scenario)
        users = np.arange(len(self.data.users), dtype=np.int64)
        new = self.new.any() and scenario.novelty_share > 0
        written = 0
        for start in range(0, len(users), _CHUNK):
            block = users[start : start + _CHUNK]
            scores = model.scores(block)
            if new:
                scores = self.with_new_items(scores, block)
            ordered, scores, pins = self._shape(scenario, scores, block)
            chosen = [ordered[row][ordered[row] >= 0] for row in range(len(block))]
            said = model.explain_block(block, chosen)
            for row, user in enumerate(block.tolist()):
                items = chosen[row]
                if not len(items):
                    continue
                reasons = said[row]
                if new and self.new[items].any():
                    fresh = np.flatnonzero(self.new[items])
                    texts = self.content().explain_many(user, items[fresh])
                    for at, text in zip(fresh.tolist(), texts, strict=True):
                        reasons[at] = new_item(text)
                reasons = [
                    reason("editors_pick") if i in pins else r
                    for i, r in zip(items.tolist(), reasons, strict=True)
                ]
                out.add(
                    scenario.name,
                    str(self.data.users[user]),
                    self.data.items[items].tolist(),
                    scores[row, items].tolist(),
                    reasons,
                    label,
                )
                written += 1
            if self.progress:
                self.progress(len(block))
        return written

    def fallback_lists(
        self, scenario: Scenario, places: dict[str, tuple[str, str]], out: Lists
    ) -> dict[str, Ints]:
        """Trending lists for everyone and each city and region with enough members."""
        audiences: dict[str, tuple[str, Ints]] = {
            "@all": (reason("popular_now"), np.arange(len(self.data.users)))
        }
        for slot, prefix in ((0, "@city:"), (1, "@region:")):
            groups: dict[str, list[int]] = {}
            for user, member in enumerate(self.data.users.tolist()):
                place = places.get(member, ("", ""))[slot]
                if place:
                    groups.setdefault(place, []).append(user)
            for place, members in sorted(groups.items()):
                if len(members) >= self.scenarios.defaults.min_audience:
                    audiences[prefix + place] = (
                        reason("popular_in", place=place),
                        np.asarray(members),
                    )
        built: dict[str, Ints] = {}
        for list_id, (said, audience) in audiences.items():
            trending = np.asarray(self.train[audience].sum(axis=0)).ravel()[None, :]
            ordered, scores, pins = self._shape(scenario, trending, None)
            items = ordered[0][ordered[0] >= 0]
            out.add(
                scenario.name,
                list_id,
                self.data.items[items].tolist(),
                scores[0, items].tolist(),
                [reason("editors_pick") if i in pins else said for i in items.tolist()],
                "trending",
            )
            built[list_id] = items
        return built

    def item_lists(self, scenario: Scenario, out: Lists) -> int:
        model, label = self.model(scenario)
        similar = model.item_to_item()
        if similar is None:
            raise ConfigError(f"{scenario.algorithm} has no item-to-item similarity")
        # Items the scenario's model knows nothing about (new items, for a model of
        # behaviour) get their content neighbours instead, when there is a catalogue.
        fill = self.products.listed.any() and model.name != "content"
        written = 0
        anchors = np.arange(len(self.data.items), dtype=np.int64)
        for start in range(0, len(anchors), _CHUNK):
            block = anchors[start : start + _CHUNK]
            scores = np.asarray(similar[block].todense(), dtype=np.float64)
            empty = np.asarray((scores > 0).sum(axis=1) == 0)
            if fill and empty.any():
                nearest = self.content().item_to_item()
                assert nearest is not None  # content is an item-to-item model
                scores[empty] = np.asarray(nearest[block[empty]].todense())
            scores[np.arange(len(block)), block] = 0.0  # never the item itself
            ordered, scores, _ = self._shape(scenario, scores, None)
            for row, anchor in enumerate(block.tolist()):
                items = ordered[row][ordered[row] >= 0][: scenario.k * 2]
                if not len(items):
                    continue
                source = self.content() if fill and empty[row] else model
                out.add(
                    scenario.name,
                    f"@item:{self.data.items[anchor]}",
                    self.data.items[items].tolist(),
                    scores[row, items].tolist(),
                    [reason(source.ANCHOR_REASON, item=str(self.labels[anchor]))] * len(items),
                    label if source is model else "content",
                )
                written += 1
        return written


def build_lists(
    warehouse: Warehouse,
    state: StateStore,
    root: Path,
    *,
    cutoff: datetime,
    scenarios: Scenarios,
    weights: dict[str, float] | None = None,
    progress: Callable[[int], None] | None = None,
) -> Lists:
    """Every scenario's lists from the interactions before ``cutoff``."""
    check_algorithms(scenarios)
    moment = cutoff.astimezone(UTC).replace(tzinfo=None) if cutoff.tzinfo else cutoff
    data = with_catalogue(load_interactions(warehouse, before=moment, weights=weights), warehouse)
    products = load_products(warehouse, data)
    builder = _Builder(
        data,
        products,
        scenarios,
        today=day_number(moment.date()),
        auto=lambda: resolve_auto(state, root, data, cutoff=moment),
        progress=progress,
    )
    out = Lists(products=products)
    places = _member_places(warehouse)
    summary: dict[str, Any] = {
        "members_with_interactions": len(data.users),
        "items": len(data.items),
    }
    for scenario in scenarios.scenarios.values():
        if scenario.anchor == "item":
            summary[scenario.name] = {"item_lists": builder.item_lists(scenario, out)}
            continue
        own = builder.member_lists(scenario, out)
        fallbacks = builder.fallback_lists(scenario, places, out)
        summary[scenario.name] = {"member_lists": own, "fallback_lists": len(fallbacks)}
    # the list that serves a member without one of their own (or without consent)
    present = {lid for lid in set(out.rows["list_id"]) if lid.startswith("@")}
    for member, (city, region) in places.items():
        for list_id in (f"@city:{city}", f"@region:{region}"):
            if list_id in present:
                out.fallback[member] = list_id
                break
    summary["auto"] = builder.auto().label() if builder.auto.cache_info().currsize else None
    summary["rows"] = len(out.rows["list_id"])
    out.summary = summary
    return out
