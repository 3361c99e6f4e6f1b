"""Predictions: lifetime value (BG/NBD + Gamma-Gamma) and churn risk.

The estimators (:class:`BetaGeoModel`, :class:`GammaGammaModel`) are sklearn-style
and work on plain arrays; :func:`summarise` builds their inputs from the orders in
the engine; :func:`fit_clv` fits, checks and registers; :func:`score_clv` scores
members for the refresh pipeline. :func:`fit_churn` trains the churn model on
features at past cut-offs, tests it held out in time beside the BG/NBD baseline and
registers it; :func:`backtest` replays that test at earlier cut-offs. See
docs/predictions.md.
"""

from memberlens.predict._base import NotFittedError
from memberlens.predict._bgnbd import BetaGeoModel
from memberlens.predict._churn import backtest, fit_churn, load_churn_model, score_churn
from memberlens.predict._churn_data import MODEL_FEATURES
from memberlens.predict._churn_model import ChurnModel
from memberlens.predict._clv import fit_clv, load_clv_model, score_clv
from memberlens.predict._clv_model import ClvModel
from memberlens.predict._gamma_gamma import GammaGammaModel
from memberlens.predict._reasons import reason_message, with_texts
from memberlens.predict._signals import signal_detectors
from memberlens.predict._step import (
    CHURN_COLUMNS,
    DRIFT_TABLE,
    PREDICTIONS_TABLE,
    SCORES,
    compute_predictions,
    ensure_predictions_table,
    latest_drift,
    member_predictions,
)
from memberlens.predict._summary import fingerprint, summarise, summary_expr
from memberlens.predict.contracts import (
    CHURN_MODEL,
    CLV_MODEL,
    UNIT_DAYS,
    ChurnEvaluation,
    ChurnOptions,
    ChurnReport,
    ClvOptions,
    ClvReport,
    HoldoutCheck,
    TimeUnit,
)

__all__ = [
    "CHURN_COLUMNS",
    "CHURN_MODEL",
    "CLV_MODEL",
    "DRIFT_TABLE",
    "MODEL_FEATURES",
    "PREDICTIONS_TABLE",
    "SCORES",
    "UNIT_DAYS",
    "BetaGeoModel",
    "ChurnEvaluation",
    "ChurnModel",
    "ChurnOptions",
    "ChurnReport",
    "ClvModel",
    "ClvOptions",
    "ClvReport",
    "GammaGammaModel",
    "HoldoutCheck",
    "NotFittedError",
    "TimeUnit",
    "backtest",
    "compute_predictions",
    "ensure_predictions_table",
    "fingerprint",
    "fit_churn",
    "fit_clv",
    "latest_drift",
    "load_churn_model",
    "load_clv_model",
    "member_predictions",
    "reason_message",
    "score_churn",
    "score_clv",
    "signal_detectors",
    "summarise",
    "summary_expr",
    "with_texts",
]
