"""What ``auto`` means: the production ``recommender`` model in the registry.

``memberlens recommend evaluate`` registers its default (with the settings that won on
validation); without a registered choice the refresh chooses on a validation split of
its own data — among the fast algorithms (``REFRESH_CHOICES``), their settings grids —
and registers that.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from memberlens import registry
from memberlens.core import progress
from memberlens.core.errors import InputError
from memberlens.recommend._catalogue import ALGORITHMS
from memberlens.recommend._evaluate import tune, within_budget
from memberlens.recommend._interactions import Interactions, day_of
from memberlens.recommend._memory import Shape
from memberlens.recommend._split import stratified
from memberlens.store import StateStore

MODEL = "recommender"
FORMAT = "memberlens-recommender/1"
# What the refresh may choose from when no choice is registered: quick to fit on a
# laptop, in the catalogue's simplest-first order.
REFRESH_CHOICES = ("popularity", "category", "item_knn", "blend", "rrf")
# Validation users the refresh's choice is scored on at most. At this size NDCG@10's
# standard error is about 0.003 (per-user NDCG spreads about 0.2): candidates closer
# than that give alike lists. Scoring every member of a large base for each candidate
# and setting was most of the choice's time.
AUTO_USERS = 5_000


@dataclass(frozen=True)
class Choice:
    """The algorithm ``auto`` stands for: name, settings, registry version (if any)."""

    algorithm: str
    params: dict[str, Any]
    version: int | None = None

    def label(self) -> str:
        return f"{self.algorithm} v{self.version}" if self.version else self.algorithm


def register_choice(
    state: StateStore,
    root: Path,
    *,
    algorithm: str,
    params: dict[str, Any],
    metrics: dict[str, Any],
    window_end: datetime | None,
    fingerprint: str,
) -> registry.RegisteredModel:
    """Record ``algorithm`` with ``params`` as the production ``recommender`` (what
    ``auto`` means from now on); the same choice on the same data with the same
    figures is not recorded twice."""
    return registry.register_production(
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
) -> registry.RegisteredModel:
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


def resolve_auto(
    state: StateStore,
    root: Path,
    data: Interactions,
    *,
    cutoff: datetime,
    memory_budget: int | None = None,
) -> Choice:
    """The registered choice, else one made now on a validation split and registered
    (among the refresh's choices whose memory fits ``memory_budget``)."""
    try:
        entry = registry.get_model(state, MODEL)
    except registry.ModelNotFoundError:
        entry = None
    if entry is not None:
        artifact = registry.read_artifact(root, entry)
        if artifact.get("algorithm") in ALGORITHMS:
            return Choice(artifact["algorithm"], dict(artifact.get("params", {})), entry.version)
    try:
        whole = stratified(data, test_ratio=0.25, seed=42)
    except InputError:  # nobody has two items: nothing to validate on
        return Choice("popularity", {})
    validation = whole.tested_on(AUTO_USERS, seed=42)
    shape = Shape.of(validation.train.matrix())
    names, skipped = within_budget(REFRESH_CHOICES, shape, memory_budget)
    tried: dict[str, float] = {}
    settings: dict[str, dict[str, Any]] = {}
    with progress.stage("choosing auto", total=len(names)):
        for done, name in enumerate(names):
            with progress.stage(name):
                settings[name], ndcg = tune(validation, name, k=10)
            tried[name] = max(ndcg.values())
            progress.advance(done + 1, len(names), name)
    if not tried:
        return Choice("popularity", {})
    best = max(tried, key=lambda n: tried[n])  # ties: the simpler
    metrics: dict[str, Any] = {
        "chosen_by": "refresh",
        "validation_ndcg_at_10": tried,
        **validation.describe(),
        "validation_users": len(whole.users),  # of which test_users were scored
    }
    if skipped:
        metrics["skipped"] = skipped
    entry = register_choice(
        state,
        root,
        algorithm=best,
        params=settings[best],
        metrics=metrics,
        window_end=cutoff,
        fingerprint=fingerprint(data),
    )
    return Choice(best, settings[best], entry.version)
