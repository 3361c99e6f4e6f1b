"""Offline evaluation: fit each algorithm on a split's training part, recommend to its
test users, and score the lists (``_metrics``) with intervals; pick the default on a
validation split carved from the training part, never on the test."""

from __future__ import annotations

import functools
import inspect
import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from memberlens.core import progress
from memberlens.core.errors import UsageError
from memberlens.recommend._algorithms import Blend, Recommender, _Knn, top_k
from memberlens.recommend._catalogue import ALGORITHMS
from memberlens.recommend._content import Content
from memberlens.recommend._interactions import Interactions
from memberlens.recommend._memory import Shape, over_budget
from memberlens.recommend._metrics import paired_difference, score_lists, summarise
from memberlens.recommend._products import Products
from memberlens.recommend._split import SPLITS, Split, by_time, leave_last_out, stratified

Factory = Callable[[], Recommender]


@dataclass(frozen=True)
class Run:
    """One algorithm on one split: its summary and the per-user NDCG (for pairing)."""

    name: str
    summary: dict[str, Any]
    ndcg: np.ndarray
    fit_seconds: float


def run(
    split: Split,
    factory: Factory | Recommender,
    *,
    k: int,
    keep_seen: bool = False,
    seed: int = 42,
    rounds: int = 1000,
    listed: npt.NDArray[np.bool_] | None = None,
) -> Run:
    """Fit ``factory()`` on ``split.train`` and score its top-``k`` lists (a model
    given instead of a factory is taken as fitted there already).

    Candidates are the items with a training record, plus the catalogue's products
    (``listed``): an item known only from the held-out part would give itself away —
    any model able to score unseen items would find the test by elimination.
    """
    train = split.train.matrix()
    if isinstance(factory, Recommender):  # fitted on this split's training part already
        model, fitted = factory, 0.0
    else:
        model = factory()
        began = time.perf_counter()
        model.fit(train, split.train)
        fitted = time.perf_counter() - began
    allowed = np.asarray((train > 0).sum(axis=0)).ravel() > 0
    if listed is not None:
        allowed |= listed
    exclude = None if keep_seen else train
    lists = top_k(model, split.users, k, exclude=exclude, allowed=allowed)
    scored = score_lists(
        lists,
        split.relevant,
        k=k,
        catalogue=len(split.train.items),
        # without any category, diversity would read 0 for everyone: leave it out
        categories=split.train.category if split.train.categories else None,
        # users with any record of each item: the training matrix's entries per column
        # (what ``split.train.popularity()`` counts, without its pass over every record)
        popularity=np.bincount(train.indices, minlength=train.shape[1]) / max(train.shape[0], 1),
    )
    summary = summarise(scored, seed=seed, rounds=rounds)
    summary["fit_seconds"] = round(fitted, 4)
    return Run(model.name, summary, scored.per_user["ndcg"], fitted)


def choose(
    validation: Split,
    candidates: Mapping[str, Factory | Recommender],
    *,
    k: int,
    keep_seen: bool = False,
    listed: npt.NDArray[np.bool_] | None = None,
) -> tuple[str, dict[str, float]]:
    """The candidate with the best NDCG@k on ``validation`` (ties to the one listed
    first: list the simpler first); every candidate's figure."""
    ndcg = {}
    for done, (label, factory) in enumerate(candidates.items()):
        with progress.stage(label):
            found = run(validation, factory, k=k, keep_seen=keep_seen, rounds=0, listed=listed)
        ndcg[label] = float(found.summary["ndcg"] or 0.0)
        progress.advance(done + 1, len(candidates), label)
    best = max(ndcg, key=lambda name: ndcg[name])  # ties: the earlier (simpler) candidate
    return best, ndcg


def model_factory(
    name: str, params: Mapping[str, Any], products: Products | None = None
) -> Factory:
    """``ALGORITHMS[name]`` with ``params``, and the catalogue if it takes one."""
    cls = ALGORITHMS[name]
    if products is not None and "products" in inspect.signature(cls).parameters:
        params = {**params, "products": products}
    return functools.partial(cls, **params)


def tune(
    validation: Split,
    name: str,
    *,
    k: int,
    keep_seen: bool = False,
    products: Products | None = None,
) -> tuple[dict[str, Any], dict[str, float]]:
    """``name``'s keyword set (of its ``GRID``) with the best NDCG@k on ``validation``,
    ties to the earlier (the default first); and each set's figure."""
    grid = {json.dumps(params, sort_keys=True): params for params in ALGORITHMS[name].GRID}
    labels: dict[str, Factory | Recommender] = {
        label: model_factory(name, params, products) for label, params in grid.items()
    }
    labels.update(_narrowed(validation, name, grid, products))
    listed = products.listed if products is not None else None
    best, ndcg = choose(validation, labels, k=k, keep_seen=keep_seen, listed=listed)
    return grid[best], ndcg


def _narrowed(
    validation: Split,
    name: str,
    grid: Mapping[str, dict[str, Any]],
    products: Products | None = None,
) -> dict[str, Recommender]:
    """Grids whose models can share one fit on the validation's training part: a
    neighbour model's numbers of neighbours (item-kNN, user-kNN, content: the widest
    fitted, the others cut from it — the similarity product, the costly part, is formed
    once) and a blend's weights (its parts fitted once). The same models as fitting
    each setting."""
    cls = ALGORITHMS[name]
    if issubclass(cls, Blend) and not any(set(p) - {"weights"} for p in grid.values()):
        blend = cls()
        with progress.stage(f"fit {name}"):
            blend.fit(validation.train.matrix(), validation.train)
        return {label: blend.reweighted(p.get("weights")) for label, p in grid.items()}
    if not issubclass(cls, _Knn | Content) or any(set(p) - {"neighbours"} for p in grid.values()):
        return {}
    wanted = {label: int(p.get("neighbours", cls.NEIGHBOURS)) for label, p in grid.items()}
    with progress.stage(f"fit {name}"):
        widest = model_factory(name, {"neighbours": max(wanted.values())}, products)()
        widest.fit(validation.train.matrix(), validation.train)
    assert isinstance(widest, _Knn | Content)
    return {label: widest.narrowed(n) for label, n in wanted.items()}


def memory_need(name: str, shape: Shape, products: Products | None = None) -> int:
    """Bytes ``name`` needs at most on a training matrix of ``shape``, over its grid of
    settings (:mod:`._memory`)."""
    return max(
        model_factory(name, params, products)().memory(shape) for params in ALGORITHMS[name].GRID
    )


def within_budget(
    names: Sequence[str], shape: Shape, budget: int | None, products: Products | None = None
) -> tuple[list[str], dict[str, dict[str, Any]]]:
    """The algorithms whose memory fits ``budget`` (None: no limit), and the others
    with the reason each is skipped."""
    kept: list[str] = []
    skipped: dict[str, dict[str, Any]] = {}
    for name in names:
        need = memory_need(name, shape, products) if budget is not None else 0
        if budget is not None and need > budget:
            skipped[name] = over_budget(name, need, budget)
        else:
            kept.append(name)
    return kept, skipped


def compare(runs: Sequence[Run], baseline: str) -> dict[str, dict[str, float]]:
    """Per algorithm, the paired-bootstrap NDCG difference to ``baseline``."""
    base = next(r for r in runs if r.name == baseline)
    return {r.name: paired_difference(r.ndcg, base.ndcg) for r in runs if r.name != baseline}


def _split(
    data: Interactions,
    kind: str,
    *,
    test_ratio: float,
    seed: int,
    cutoff_day: int | None,
    keep_seen: bool,
) -> Split:
    if kind == "stratified":
        return stratified(data, test_ratio=test_ratio, seed=seed)
    if kind == "last":
        return leave_last_out(data)
    if kind == "time":
        if cutoff_day is None:
            raise UsageError("--split time needs --cutoff DATE (the first day tested)")
        return by_time(data, cutoff_day=cutoff_day, keep_seen=keep_seen)
    raise UsageError(f"--split {kind!r} is not one of {', '.join(SPLITS)}")


def _validation(split: Split, kind: str, *, test_ratio: float, seed: int, keep_seen: bool) -> Split:
    """The same kind of split carved from ``split``'s training part (a time split
    holds out the days of the last tenth of the training records, at least one day).

    By records, not by calendar: in a workspace whose data spans decades (CDNOW's 1997
    beside this year's shop) the last tenth of the days holds no record at all.
    """
    train = split.train
    if kind == "time":
        days = np.sort(train.day)
        day = max(int(days[len(days) * 9 // 10]), int(days[0]) + 1)
        return by_time(train, cutoff_day=day, keep_seen=keep_seen)
    return _split(train, kind, test_ratio=test_ratio, seed=seed + 1, cutoff_day=None,
                  keep_seen=keep_seen)  # fmt: skip


def evaluate(
    data: Interactions,
    *,
    split: str = "stratified",
    test_ratio: float = 0.25,
    seed: int = 42,
    cutoff_day: int | None = None,
    k: int = 10,
    keep_seen: bool = False,
    algorithms: Sequence[str] | None = None,
    rounds: int = 1000,
    products: Products | None = None,
    memory_budget: int | None = None,
) -> dict[str, Any]:
    """Every algorithm on the test split, and the default chosen on validation.

    Returns the ``recommend-evaluate`` JSON (docs/cli.md): per algorithm its metrics
    with intervals, fit time and parameters; ``default`` (best NDCG@k on a
    validation split carved from the training part); ``validation`` (each
    algorithm's best NDCG there over its grid, and the parameters that won — the
    ones the test run uses); ``versus_popularity`` (paired NDCG difference with its
    interval). ``products`` (``load_products`` for ``data``) gives the algorithms
    that read a catalogue (content, association) its text and names.

    An algorithm whose memory estimate on the training part is above
    ``memory_budget`` bytes (None: no limit) is not run: ``skipped`` names it with a
    code (``MEMORY_BUDGET``), the figures and the reason. Progress: a stage per phase
    (validation, test) and per algorithm, advanced per block of members scored.
    """
    names = list(algorithms or ALGORITHMS)
    unknown = [n for n in names if n not in ALGORITHMS]
    if unknown:
        raise UsageError(
            f"unknown algorithm {', '.join(unknown)}; choose from {', '.join(ALGORITHMS)}"
        )
    if k < 1:
        raise UsageError("--k must be at least 1")
    tested = _split(data, split, test_ratio=test_ratio, seed=seed, cutoff_day=cutoff_day,
                    keep_seen=keep_seen)  # fmt: skip
    validation = _validation(tested, split, test_ratio=test_ratio, seed=seed, keep_seen=keep_seen)
    names, skipped = within_budget(names, Shape.of(tested.train.matrix()), memory_budget, products)
    if not names:
        raise UsageError(
            "every algorithm asked for needs more memory than [recommend] memory_budget: "
            + "; ".join(s["reason"] for s in skipped.values())
        )
    tuned: dict[str, dict[str, Any]] = {}
    on_validation: dict[str, float] = {}
    with progress.stage("validation", total=len(names)):
        for done, name in enumerate(names):
            with progress.stage(name):
                tuned[name], tried = tune(
                    validation, name, k=k, keep_seen=keep_seen, products=products
                )
            on_validation[name] = max(tried.values())
            progress.advance(done + 1, len(names), name)
    default = max(on_validation, key=lambda name: on_validation[name])  # ties: simpler
    runs = []
    with progress.stage("test", total=len(names)):
        for done, n in enumerate(names):
            with progress.stage(n):
                runs.append(
                    run(tested, model_factory(n, tuned[n], products), k=k, keep_seen=keep_seen,
                        seed=seed, rounds=rounds,
                        listed=products.listed if products is not None else None)
                )  # fmt: skip
            progress.advance(done + 1, len(names), n)
    for r in runs:
        r.summary["params"] = {**ALGORITHMS[r.name]().params(), **tuned[r.name]}
    result: dict[str, Any] = {
        "k": k,
        "split": {
            "kind": split,
            "test_ratio": test_ratio if split == "stratified" else None,
            "seed": seed,
            "keep_seen": keep_seen,
            **tested.describe(),
        },
        "algorithms": {r.name: r.summary for r in runs},
        "default": default,
        "validation": {"ndcg": on_validation, "params": tuned, **validation.describe()},
        "skipped": skipped,
    }
    if "popularity" in names and len(names) > 1:
        result["versus_popularity"] = compare(runs, "popularity")
    return result
