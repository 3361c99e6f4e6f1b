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
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
from scipy import sparse

from memberlens.core import progress
from memberlens.core.errors import ConfigError
from memberlens.recommend._algorithms import Recommender
from memberlens.recommend._blocks import blocks, top_positive_sparse
from memberlens.recommend._catalogue import ALGORITHMS
from memberlens.recommend._choice import Choice, resolve_auto
from memberlens.recommend._evaluate import model_factory
from memberlens.recommend._interactions import Interactions, day_number, load_interactions
from memberlens.recommend._memory import Shape, over_budget
from memberlens.recommend._products import Products, load_products, with_catalogue
from memberlens.recommend._reasons import new_item, reason
from memberlens.recommend._rerank import candidates, eligible, long_tail, mmr_order, with_pins
from memberlens.recommend._scenarios import AUTO, Scenario, Scenarios
from memberlens.store import StateStore, Warehouse

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]
LIST_COLUMNS = ("scenario", "list_id", "rank", "product_id", "score", "reason", "algorithm")
SCHEMA = pa.schema(
    [
        ("scenario", pa.string()),
        ("list_id", pa.string()),
        ("rank", pa.int32()),
        ("product_id", pa.string()),
        ("score", pa.float64()),
        ("reason", pa.string()),
        ("algorithm", pa.string()),
    ]
)
# Anchors per block of item lists: their neighbour rows are sparse, so a block is small.
_ITEM_BLOCK = 4096


@dataclass
class Lists:
    """The step's output: list rows (Arrow tables, a block at a time), which fallback
    serves each member, the catalogue."""

    parts: list[pa.Table] = field(default_factory=list)
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
        """One list, best first."""
        self.add_lists(
            scenario,
            [list_id],
            np.asarray([len(product_ids)], dtype=np.int64),
            product_ids,
            np.asarray(scores, dtype=np.float64),
            reasons,
            algorithm,
        )

    def add_lists(
        self,
        scenario: str,
        list_ids: Sequence[str],
        lengths: Ints,
        product_ids: Sequence[str] | npt.NDArray[Any],
        scores: Floats,
        reasons: Sequence[str],
        algorithm: str | Sequence[str],
    ) -> None:
        """Several lists at once: ``lengths[i]`` places for ``list_ids[i]``, their
        products, scores and reasons one after the other; ``algorithm`` one for all
        or one per list."""
        n = int(lengths.sum())
        if n == 0:
            return
        ends = np.cumsum(lengths)
        rank = np.arange(n) - np.repeat(ends - lengths, lengths) + 1
        named = np.repeat(np.asarray(list_ids, dtype=object), lengths)
        made = (
            [algorithm] * n
            if isinstance(algorithm, str)
            else np.repeat(np.asarray(algorithm, dtype=object), lengths)
        )
        self.parts.append(
            pa.table(
                [
                    pa.array([scenario] * n, pa.string()),
                    pa.array(named, pa.string()),
                    pa.array(rank, pa.int32()),
                    pa.array(np.asarray(product_ids, dtype=object), pa.string()),
                    # Python's round: decimal halves as written, not as binary
                    pa.array([round(v, 6) for v in scores.tolist()], pa.float64()),
                    pa.array(list(reasons), pa.string()),
                    pa.array(made, pa.string()),
                ],
                schema=SCHEMA,
            )
        )

    def table(self) -> pa.Table:
        if not self.parts:
            return SCHEMA.empty_table()
        return pa.concat_tables(self.parts).combine_chunks()

    def __len__(self) -> int:
        return sum(part.num_rows for part in self.parts)

    def list_ids(self) -> set[str]:
        """Every list id the lists hold."""
        found: set[str] = set()
        for part in self.parts:
            found.update(part.column("list_id").unique().to_pylist())
        return found


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


class OverBudget(Exception):
    """An algorithm whose memory estimate is above the budget: its lists are skipped."""

    def __init__(self, name: str, entry: dict[str, Any]) -> None:
        super().__init__(entry["reason"])
        self.name, self.entry = name, entry


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
        memory_budget: int | None = None,
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
        self.labels = np.asarray(
            [products.name[i] or products.ids[i] for i in range(len(products))], dtype=object
        )
        self._models: dict[str, Recommender] = {}
        self.shape = Shape.of(self.train)
        self.budget = memory_budget
        self.skipped: dict[str, dict[str, Any]] = {}  # algorithm -> why it did not run

    def _fit(self, name: str, params: dict[str, Any]) -> Recommender:
        """``name`` fitted on the lists' training matrix, unless it would pass the
        memory budget (:class:`OverBudget`)."""
        key = json.dumps([name, params], sort_keys=True)
        if key in self._models:
            return self._models[key]
        model = model_factory(name, params, self.products)()
        need = model.memory(self.shape)
        if self.budget is not None and need > self.budget:
            self.skipped[name] = over_budget(name, need, self.budget)
            raise OverBudget(name, self.skipped[name])
        with progress.stage(f"fit {name}"):
            model.fit(self.train, self.data)
        model.labels = self.labels
        self._models[key] = model
        return model

    def model(self, scenario: Scenario) -> tuple[Recommender, str]:
        if scenario.algorithm == AUTO:
            choice = self.auto()
            name, params, label = choice.algorithm, choice.params, choice.label()
        else:
            name, params, label = scenario.algorithm, {}, scenario.algorithm
        return self._fit(name, params), label

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
        at = np.searchsorted(self.data.items, np.asarray(scenario.pins, dtype=str))
        known = [
            int(i) for i, p in zip(at, scenario.pins, strict=True)
            if i < len(self.data.items) and self.data.items[i] == p
        ]  # fmt: skip
        return np.asarray(known, dtype=np.int64)

    def _rerank(self, scenario: Scenario, items: Ints, values: Floats, allowed: Any) -> Ints:
        """MMR, the novelty share and pins over each row's candidates."""
        order = mmr_order(
            items,
            values,
            category=self.category,
            novel=self.novel,
            mmr_lambda=scenario.mmr_lambda,
            novelty_share=scenario.novelty_share,
        )
        width = self.scenarios.defaults.candidates
        return with_pins(order, self._pins(scenario), allowed)[:, :width]

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
        return self._rerank(scenario, items, values, allowed), scores, self._pins(scenario)

    def content(self) -> Recommender | None:
        """Content similarity over the catalogue, fitted once (for new items); None
        when it would pass the memory budget."""
        if self._content is None:
            try:
                self._content = self._fit("content", {})
            except OverBudget:
                return None
        return self._content

    def with_new_items(self, scores: Floats, block: Ints) -> Floats:
        """New items' scores from content similarity to what each member has: half the
        member's best score times the item's similarity relative to the member's best
        new-item match — enough to compete for the novelty share's places, never to
        push out items with evidence above half the best."""
        content = self.content()
        if content is None:
            return scores
        evidence = content.sparse_scores(block)
        if evidence is not None:
            similar = sparse.csr_matrix(evidence)[:, self.new].toarray()
        else:
            similar = content.scores(block)[:, self.new]
        best_new = similar.max(axis=1, keepdims=True)
        best = np.maximum(scores, 0).max(axis=1, keepdims=True)
        relative = np.divide(similar, best_new, out=np.zeros_like(similar), where=best_new > 0)
        scores = scores.copy()
        scores[:, self.new] = 0.5 * best * relative
        return scores

    def member_lists(self, group: list[Scenario], out: Lists) -> dict[str, int]:
        """The member scenarios of ``group`` (one model): each block of members is
        scored once, then shaped by each scenario's rules."""
        model, label = self.model(group[0])
        users = np.arange(len(self.data.users), dtype=np.int64)
        fresh = [s.name for s in group if self.new.any() and s.novelty_share > 0]
        written = dict.fromkeys((s.name for s in group), 0)
        done = 0
        for block in blocks(users, len(self.data.items)):
            scores = model.scores(block)
            mixed = self.with_new_items(scores, block) if fresh else scores
            for scenario in group:
                new = scenario.name in fresh and mixed is not scores
                written[scenario.name] += self._write_members(
                    scenario, model, label, block, mixed if new else scores, new, out
                )
            done += len(block)
            progress.advance(done, len(users), f"{done:,} of {len(users):,} members")
        return written

    def _write_members(
        self,
        scenario: Scenario,
        model: Recommender,
        label: str,
        block: Ints,
        scores: Floats,
        new: bool,
        out: Lists,
    ) -> int:
        """One scenario's lists for a block of members; how many have one."""
        ordered, scores, pins = self._shape(scenario, scores, block)
        chosen = [ordered[row][ordered[row] >= 0] for row in range(len(block))]
        said = model.explain_block(block, chosen)
        content = self.content() if new else None
        reasons: list[str] = []
        for row, user in enumerate(block.tolist()):
            items = chosen[row]
            if not len(items):
                continue
            texts = said[row]
            if content is not None and self.new[items].any():
                fresh = np.flatnonzero(self.new[items])
                news = content.explain_many(user, items[fresh])
                for at, text in zip(fresh.tolist(), news, strict=True):
                    texts[at] = new_item(text)
            if len(pins):
                texts = [
                    reason("editors_pick") if i in pins else r
                    for i, r in zip(items.tolist(), texts, strict=True)
                ]
            reasons += texts
        lengths = np.asarray([len(c) for c in chosen], dtype=np.int64)
        listed = lengths > 0
        rows = np.repeat(np.arange(len(block)), lengths)
        items = np.concatenate(chosen) if chosen else np.zeros(0, dtype=np.int64)
        out.add_lists(
            scenario.name,
            self.data.users[block[listed]].tolist(),
            lengths[listed],
            self.data.items[items],
            scores[rows, items],
            reasons,
            label,
        )
        return int(listed.sum())

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
        """One list per product from the model's item-to-item rows, kept sparse: a
        block of anchors' neighbour rows, never a block of the whole catalogue."""
        model, label = self.model(scenario)
        similar = model.item_to_item()
        if similar is None:
            raise ConfigError(f"{scenario.algorithm} has no item-to-item similarity")
        # Items the scenario's model knows nothing about (new items, for a model of
        # behaviour) get their content neighbours instead, when there is a catalogue.
        fill = bool(self.products.listed.any()) and model.name != "content"
        anchors = np.arange(len(self.data.items), dtype=np.int64)
        written = 0
        for start in range(0, len(anchors), _ITEM_BLOCK):
            block = anchors[start : start + _ITEM_BLOCK]
            written += self._write_items(scenario, model, label, fill, similar, block, out)
            progress.advance(start + len(block), len(anchors), "item lists")
        return written

    def _write_items(
        self,
        scenario: Scenario,
        model: Recommender,
        label: str,
        fill: bool,
        similar: sparse.csr_matrix,
        block: Ints,
        out: Lists,
    ) -> int:
        """One block of anchors' lists; how many anchors have one."""
        rows = sparse.csr_matrix(similar[block], dtype=np.float64)
        empty = np.diff(sparse.csr_matrix(rows > 0).indptr) == 0
        nearest = self.content() if fill and empty.any() else None
        if nearest is not None:
            content = nearest.item_to_item()
            assert content is not None  # content is an item-to-item model
            rows = sparse.diags((~empty).astype(np.float64)) @ rows + sparse.diags(
                empty.astype(np.float64)
            ) @ sparse.csr_matrix(content[block], dtype=np.float64)
            rows = sparse.csr_matrix(rows)
        else:
            empty = np.zeros(len(block), dtype=bool)
        # never the item itself
        owner = np.repeat(np.arange(len(block)), np.diff(rows.indptr))
        rows.data[rows.indices == block[owner]] = 0.0
        boost = self._boost(scenario)
        if boost is not None:
            rows.data = rows.data * boost[rows.indices]
        allowed, _ = self._rules(scenario, np.zeros(0, dtype=np.int64))
        width = self.scenarios.defaults.candidates
        items, values = top_positive_sparse(rows, width, allowed=allowed)
        ordered = self._rerank(scenario, items, values, allowed)
        # each list: its first k * 2 items
        lengths = np.minimum((ordered >= 0).sum(axis=1), scenario.k * 2)
        keep = np.arange(ordered.shape[1])[None, :] < lengths[:, None]
        listed = lengths > 0
        line, chosen = np.nonzero(keep)
        product = ordered[line, chosen]
        scores = np.asarray(rows[line, product]).ravel() if len(line) else np.zeros(0)
        named = self.labels[block[listed]]
        from_content = empty[listed]
        sources = [nearest if c and nearest is not None else model for c in from_content.tolist()]
        reasons = np.repeat(
            np.asarray(
                [reason(s.ANCHOR_REASON, item=str(n)) for s, n in zip(sources, named, strict=True)],
                dtype=object,
            ),
            lengths[listed],
        )
        out.add_lists(
            scenario.name,
            [f"@item:{p}" for p in self.data.items[block[listed]].tolist()],
            lengths[listed],
            self.data.items[product],
            scores,
            reasons.tolist(),
            np.where(from_content, "content", label).tolist(),
        )
        return int(listed.sum())


def build_lists(
    warehouse: Warehouse,
    state: StateStore,
    root: Path,
    *,
    cutoff: datetime,
    scenarios: Scenarios,
    weights: dict[str, float] | None = None,
    memory_budget: int | None = None,
) -> Lists:
    """Every scenario's lists from the interactions before ``cutoff``.

    Member scenarios that use the same model share its scores (each block of members
    is scored once); an algorithm whose memory estimate passes ``memory_budget``
    bytes is skipped — its scenario's members are served the fallback lists — and
    the summary's ``skipped`` says why. Progress: a stage per model and per item
    scenario, advanced per block.
    """
    check_algorithms(scenarios)
    moment = cutoff.astimezone(UTC).replace(tzinfo=None) if cutoff.tzinfo else cutoff
    with progress.stage("interactions"):
        data = with_catalogue(
            load_interactions(warehouse, before=moment, weights=weights), warehouse
        )
        products = load_products(warehouse, data)
    builder = _Builder(
        data,
        products,
        scenarios,
        today=day_number(moment.date()),
        auto=lambda: resolve_auto(state, root, data, cutoff=moment, memory_budget=memory_budget),
        memory_budget=memory_budget,
    )
    out = Lists(products=products)
    places = _member_places(warehouse)
    summary: dict[str, Any] = {
        "members_with_interactions": len(data.users),
        "items": len(data.items),
    }
    for group in _by_model(builder, scenarios):
        names = ", ".join(s.name for s in group)
        with progress.stage(names):
            try:
                if group[0].anchor == "item":
                    summary[group[0].name] = {"item_lists": builder.item_lists(group[0], out)}
                    continue
                own = builder.member_lists(group, out)
            except OverBudget as exc:
                own = dict.fromkeys((s.name for s in group), 0)
                for scenario in group:
                    summary[scenario.name] = {"skipped": exc.entry["reason"]}
                if group[0].anchor == "item":
                    continue
            for scenario in group:
                fallbacks = builder.fallback_lists(scenario, places, out)
                entry = summary.setdefault(scenario.name, {})
                entry.update({"member_lists": own[scenario.name], "fallback_lists": len(fallbacks)})
    # the list that serves a member without one of their own (or without consent)
    present = {lid for lid in out.list_ids() if lid.startswith("@")}
    for member, (city, region) in places.items():
        for list_id in (f"@city:{city}", f"@region:{region}"):
            if list_id in present:
                out.fallback[member] = list_id
                break
    summary["auto"] = builder.auto().label() if builder.auto.cache_info().currsize else None
    summary["rows"] = len(out)
    if builder.skipped:
        summary["skipped"] = builder.skipped
    out.summary = summary
    return out


def _by_model(builder: _Builder, scenarios: Scenarios) -> list[list[Scenario]]:
    """The scenarios in groups that share a model: member scenarios by algorithm
    (``auto`` together), each item scenario alone; in the file's order."""
    groups: dict[str, list[Scenario]] = {}
    for scenario in scenarios.scenarios.values():
        key = scenario.name if scenario.anchor == "item" else f"member:{scenario.algorithm}"
        groups.setdefault(key, []).append(scenario)
    return list(groups.values())
