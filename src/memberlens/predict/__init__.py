"""Predictions: lifetime value (BG/NBD + Gamma-Gamma) and the model registry.

The estimators (:class:`BetaGeoModel`, :class:`GammaGammaModel`) are sklearn-style
and work on plain arrays; :func:`summarise` builds their inputs from the orders in
the engine; :func:`fit_clv` fits, checks and registers; :func:`score_clv` scores
members for the refresh pipeline. See docs/predictions.md.
"""

from memberlens.predict._base import NotFittedError
from memberlens.predict._bgnbd import BetaGeoModel
from memberlens.predict._clv import fit_clv, load_clv_model, score_clv
from memberlens.predict._clv_model import ClvModel
from memberlens.predict._gamma_gamma import GammaGammaModel
from memberlens.predict._registry import (
    ModelNotFoundError,
    get_model,
    list_models,
    promote,
    read_artifact,
    register_model,
    retire,
)
from memberlens.predict._step import (
    PREDICTIONS_TABLE,
    SCORES,
    compute_predictions,
    ensure_predictions_table,
    member_predictions,
)
from memberlens.predict._summary import fingerprint, summarise, summary_expr
from memberlens.predict.contracts import (
    CLV_MODEL,
    STAGES,
    UNIT_DAYS,
    ClvOptions,
    ClvReport,
    HoldoutCheck,
    RegisteredModel,
    TimeUnit,
)

__all__ = [
    "CLV_MODEL",
    "PREDICTIONS_TABLE",
    "SCORES",
    "STAGES",
    "UNIT_DAYS",
    "BetaGeoModel",
    "ClvModel",
    "ClvOptions",
    "ClvReport",
    "GammaGammaModel",
    "HoldoutCheck",
    "ModelNotFoundError",
    "NotFittedError",
    "RegisteredModel",
    "TimeUnit",
    "compute_predictions",
    "ensure_predictions_table",
    "fingerprint",
    "fit_clv",
    "get_model",
    "list_models",
    "load_clv_model",
    "member_predictions",
    "promote",
    "read_artifact",
    "register_model",
    "retire",
    "score_clv",
    "summarise",
    "summary_expr",
]
