"""Sentiment models in the workspace's model registry (name ``sentiment``).

The production version is what the refresh scores feedback with. Until a business
trains its own, that is the built-in model, registered as version 1 the first time a
workspace needs it (so later runs load it from ``models/`` instead of refitting it,
and the registry shows which model scored what). ``memberlens text train`` registers
a trained model as the next version and makes it production.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from memberlens import registry
from memberlens.core.errors import UsageError
from memberlens.store import StateStore
from memberlens.text._builtin import BUILTIN_PARAMS, SOURCE
from memberlens.text._sentiment import BUILTIN, SentimentModel, builtin_model

SENTIMENT_MODEL = "sentiment"


def fingerprint(texts: Sequence[str], labels: Sequence[int]) -> str:
    """sha256 over the labelled texts, in order: which data a model was fitted on."""
    digest = hashlib.sha256()
    for text, label in zip(texts, labels, strict=True):
        digest.update(f"{label}\t{text}\n".encode())
    return digest.hexdigest()


def _named(model: SentimentModel, entry: registry.RegisteredModel) -> SentimentModel:
    return SentimentModel(
        model.ngram, model.languages, f"{entry.name} v{entry.version}", model.source
    )


def production_model_name(state: StateStore) -> str | None:
    """The production model's name as scores record it (``sentiment v2``), without
    loading it; None before one is registered."""
    try:
        entry = registry.get_model(state, SENTIMENT_MODEL)
    except registry.ModelNotFoundError:
        return None
    return f"{entry.name} v{entry.version}"


def production_model(state: StateStore, root: Path) -> SentimentModel:
    """The production sentiment model; the built-in one (registered now) if none is."""
    try:
        entry = registry.get_model(state, SENTIMENT_MODEL)
    except registry.ModelNotFoundError:
        model = builtin_model()
        entry = registry.register_production(
            state,
            root,
            name=SENTIMENT_MODEL,
            artifact=model.to_artifact(),
            params={"source": SOURCE, **BUILTIN_PARAMS.to_json()},
            metrics={},
            window=(None, None),
            data_fingerprint="builtin",
        )
        return _named(model, entry)
    return _named(SentimentModel.from_artifact(registry.read_artifact(root, entry), name=""), entry)


def load_model(state: StateStore | None, root: Path, name: str) -> SentimentModel:
    """``builtin``, ``sentiment`` (its production version) or ``sentiment@N``."""
    if name == BUILTIN:
        return builtin_model()
    base, _, version = name.partition("@")
    if base != SENTIMENT_MODEL or (version and not version.isdigit()):
        raise UsageError(
            f"unknown sentiment model {name!r}: use builtin, {SENTIMENT_MODEL} (the "
            f"production version) or {SENTIMENT_MODEL}@VERSION"
        )
    if state is None:
        raise UsageError(f"--model {name} needs a workspace (-w); `builtin` does not")
    if not version:
        return production_model(state, root)
    entry = registry.get_model(state, SENTIMENT_MODEL, int(version))
    return _named(SentimentModel.from_artifact(registry.read_artifact(root, entry), name=""), entry)


def register_trained(
    state: StateStore,
    root: Path,
    model: SentimentModel,
    *,
    texts: Sequence[str],
    labels: Sequence[int],
    metrics: dict[str, Any],
    params: dict[str, Any],
) -> registry.RegisteredModel:
    """Record ``model`` as the next production version of ``sentiment``."""
    return registry.register_production(
        state,
        root,
        name=SENTIMENT_MODEL,
        artifact=model.to_artifact(),
        params=params,
        metrics=metrics,
        window=(None, None),
        data_fingerprint=fingerprint(texts, labels),
    )
