"""Offline evaluation: fit each algorithm on a split's training part, recommend to its
test users, and score the lists (``_metrics``) with intervals; pick the default on a
validation split carved from the training part, never on the test."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from memberlens.recommend._algorithms import Recommender, top_k
from memberlens.recommend._metrics import paired_difference, score_lists, summarise
from memberlens.recommend._split import Split

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
    factory: Factory,
    *,
    k: int,
    keep_seen: bool = False,
    seed: int = 42,
    rounds: int = 1000,
) -> Run:
    """Fit ``factory()`` on ``split.train`` and score its top-``k`` lists."""
    train = split.train.matrix()
    model = factory()
    began = time.perf_counter()
    model.fit(train, split.train)
    fitted = time.perf_counter() - began
    lists = top_k(model, split.users, k, exclude=None if keep_seen else train)
    scored = score_lists(
        lists,
        split.relevant,
        k=k,
        catalogue=len(split.train.items),
        categories=split.train.category,
        popularity=split.train.popularity(),
    )
    summary = summarise(scored, seed=seed, rounds=rounds)
    summary["fit_seconds"] = round(fitted, 4)
    return Run(model.name, summary, scored.per_user["ndcg"], fitted)


def choose(
    validation: Split,
    candidates: dict[str, Factory],
    *,
    k: int,
    keep_seen: bool = False,
) -> tuple[str, dict[str, float]]:
    """The candidate with the best NDCG@k on ``validation``; every candidate's figure."""
    ndcg = {}
    for label, factory in candidates.items():
        found = run(validation, factory, k=k, keep_seen=keep_seen, rounds=0)
        ndcg[label] = float(found.summary["ndcg"] or 0.0)
    best = max(sorted(ndcg), key=lambda name: ndcg[name])
    return best, ndcg


def compare(runs: Sequence[Run], baseline: str) -> dict[str, dict[str, float]]:
    """Per algorithm, the paired-bootstrap NDCG difference to ``baseline``."""
    base = next(r for r in runs if r.name == baseline)
    return {r.name: paired_difference(r.ndcg, base.ndcg) for r in runs if r.name != baseline}
