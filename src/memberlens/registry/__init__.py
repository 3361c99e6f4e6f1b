"""The model registry: fitted models, their versions, stages and artifacts.

Every domain that fits a model (text's sentiment, segment's clusters, predict's CLV and
churn, recommend's chosen algorithm) records it here: :func:`register_model` adds the
next version of a name (``candidate`` once a ``production`` version exists),
:func:`register_production` records one that serves at once, :func:`promote` and
:func:`retire` move stages, :func:`get_model` and :func:`list_models` read, and
:func:`read_artifact` loads a model's JSON artifact after checking its sha256. It sits
below those domains (it knows none of them) and above the state store. See DESIGN:
Models and docs/predictions.md.
"""

from memberlens.registry._registry import (
    ModelNotFoundError,
    artifact_digest,
    get_model,
    list_models,
    promote,
    read_artifact,
    register_model,
    register_production,
    retire,
)
from memberlens.registry.contracts import STAGES, RegisteredModel, Stage

__all__ = [
    "STAGES",
    "ModelNotFoundError",
    "RegisteredModel",
    "Stage",
    "artifact_digest",
    "get_model",
    "list_models",
    "promote",
    "read_artifact",
    "register_model",
    "register_production",
    "retire",
]
