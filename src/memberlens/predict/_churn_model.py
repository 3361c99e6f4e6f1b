"""The churn model: gradient-boosted trees (LightGBM) with Platt-calibrated probabilities.

Fitting (:meth:`ChurnModel.fit`): LightGBM learns on the fit rows, stops adding trees
when the log-loss of the validation rows (a later cut-off) stops improving, and a
logistic curve maps its raw score to a probability on those validation rows (Platt
scaling: one slope and one intercept, so the ranking, hence the AUC, is unchanged).
A second LightGBM model, trained the same way on the members who did buy within the
horizon with an absolute-error loss (so it predicts the median), gives the days to
the next purchase: the likely date *if* the member buys again within the horizon.

The artifact is JSON: LightGBM's own text format of the trees, the two calibration
numbers and the reference distributions drift is measured against; never pickle.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from memberlens.core.errors import InputError
from memberlens.predict._churn_data import MODEL_FEATURES
from memberlens.predict._metrics import reference_bins

ARTIFACT_FORMAT = "memberlens.churn/1"
_ROUNDS = 1000
_PATIENCE = 50


def _params(rows: int, seed: int, objective: str = "binary") -> dict[str, Any]:
    return {
        "objective": objective,
        "learning_rate": 0.05,
        "num_leaves": 7,
        # Leaves need enough members to mean something, fewer on a small shop.
        "min_data_in_leaf": int(min(200, max(10, rows // 100))),
        "feature_fraction": 0.5,
        "bagging_fraction": 0.8,
        "bagging_freq": 1,
        "lambda_l2": 1.0,
        "seed": seed,
        "deterministic": True,
        "force_col_wise": True,
        "num_threads": 2,
        "verbosity": -1,
    }


class ChurnModel:
    """Calibrated churn probabilities and per-feature contributions for feature rows."""

    def __init__(
        self,
        trees: str,
        calibration: tuple[float, float],
        horizon_days: int,
        reference: dict[str, Any],
        wait_trees: str,
        *,
        version: str | None = None,
    ) -> None:
        import lightgbm as lgb

        self.trees = trees
        self.booster = lgb.Booster(model_str=trees)
        self.wait_trees = wait_trees
        self.wait_booster = lgb.Booster(model_str=wait_trees)
        self.calibration = calibration
        self.horizon_days = horizon_days
        self.reference = reference
        self.version = version

    @classmethod
    def fit(
        cls,
        x_fit: np.ndarray,
        y_fit: np.ndarray,
        x_valid: np.ndarray,
        y_valid: np.ndarray,
        *,
        wait_fit: np.ndarray,
        wait_valid: np.ndarray,
        horizon_days: int,
        seed: int = 7,
    ) -> ChurnModel:
        """Fit on (x_fit, y_fit), stop and calibrate on (x_valid, y_valid); ``wait_*``
        are the days to the next purchase (NaN for churned rows)."""
        for name, y in (("fit", y_fit), ("validation", y_valid)):
            if len(np.unique(y)) < 2:
                everyone = "churned" if y.all() else "retained"
                raise InputError(
                    f"the {name} cut-off has only {everyone} members, nothing to tell "
                    "apart; use a different --horizon-days or more history",
                    code="ALL_CHURNED" if y.all() else "NONE_CHURNED",
                )
        trees, margin = _boost(x_fit, y_fit.astype(float), x_valid, y_valid.astype(float), seed)
        calibration = _platt(margin, y_valid)
        came, back = ~y_fit, ~y_valid
        wait_trees, _ = _boost(
            x_fit[came], wait_fit[came], x_valid[back], wait_valid[back], seed, "l1"
        )
        return cls(trees, calibration, horizon_days, {}, wait_trees)

    def set_reference(self, x: np.ndarray) -> None:
        """Keep the distribution of each input and of the risk over the rows ``x`` (the
        members as they were when the model was trained): what drift compares with."""
        reference = {name: reference_bins(x[:, j]) for j, name in enumerate(MODEL_FEATURES)}
        reference["churn_risk"] = reference_bins(self.probability(x))
        self.reference = reference

    def probability(self, x: np.ndarray) -> np.ndarray:
        """Calibrated P(no purchase within the horizon) per row."""
        if len(x) == 0:
            return np.empty(0)
        margin = np.asarray(self.booster.predict(x, raw_score=True))
        slope, intercept = self.calibration
        risk: np.ndarray = 1.0 / (1.0 + np.exp(-(slope * margin + intercept)))
        return risk

    def next_purchase_days(self, x: np.ndarray) -> np.ndarray:
        """Days from the cut-off to the next purchase, for a member who buys again."""
        if len(x) == 0:
            return np.empty(0)
        days = np.asarray(self.wait_booster.predict(x))
        clipped: np.ndarray = np.clip(days, 0.0, float(self.horizon_days - 1))
        return clipped

    def contributions(self, x: np.ndarray) -> np.ndarray:
        """Per row, each feature's contribution to the raw score (and the bias, last)."""
        if len(x) == 0:
            return np.empty((0, len(MODEL_FEATURES) + 1))
        return np.asarray(self.booster.predict(x, pred_contrib=True))

    def importance(self) -> dict[str, float]:
        """Total gain per feature, as shares that add up to 1 (the model card's list)."""
        gain = np.asarray(self.booster.feature_importance(importance_type="gain"), dtype=float)
        total = gain.sum() or 1.0
        ranked = sorted(zip(MODEL_FEATURES, gain / total, strict=True), key=lambda p: -p[1])
        return {name: round(float(share), 4) for name, share in ranked if share > 0}

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": ARTIFACT_FORMAT,
            "features": list(MODEL_FEATURES),
            "horizon_days": self.horizon_days,
            "calibration": {"slope": self.calibration[0], "intercept": self.calibration[1]},
            "trees": self.trees,
            "wait_trees": self.wait_trees,
            "reference": self.reference,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, version: str | None = None) -> ChurnModel:
        if data.get("format") != ARTIFACT_FORMAT:
            raise InputError(
                f"not a churn model artifact (format {data.get('format')!r}, expected "
                f"{ARTIFACT_FORMAT!r}); refit with `memberlens predict churn`"
            )
        if data.get("features") != list(MODEL_FEATURES):
            raise InputError(
                "the churn model was fitted on other features than this version reads; "
                "refit it with `memberlens predict churn`",
                code="MODEL_OUTDATED",
            )
        c = data["calibration"]
        return cls(
            data["trees"],
            (float(c["slope"]), float(c["intercept"])),
            int(data["horizon_days"]),
            data["reference"],
            data["wait_trees"],
            version=version,
        )


def _boost(
    x_fit: np.ndarray,
    y_fit: np.ndarray,
    x_valid: np.ndarray,
    y_valid: np.ndarray,
    seed: int,
    objective: str = "binary",
) -> tuple[str, np.ndarray]:
    """Trees grown until the validation loss stops improving; (text, raw validation score)."""
    import lightgbm as lgb

    train = lgb.Dataset(x_fit, label=y_fit, feature_name=list(MODEL_FEATURES))
    valid = lgb.Dataset(x_valid, label=y_valid, reference=train)
    booster = lgb.train(
        _params(len(y_fit), seed, objective),
        train,
        num_boost_round=_ROUNDS,
        valid_sets=[valid],
        callbacks=[lgb.early_stopping(_PATIENCE, verbose=False)],
    )
    best = booster.best_iteration
    raw = booster.predict(x_valid, num_iteration=best, raw_score=True)
    return booster.model_to_string(num_iteration=best), np.asarray(raw)


def _platt(margin: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Slope and intercept of the logistic curve that maps raw scores to probabilities."""
    from sklearn.linear_model import LogisticRegression

    fitted = LogisticRegression(C=1e6).fit(margin.reshape(-1, 1), y.astype(int))
    return float(fitted.coef_[0, 0]), float(fitted.intercept_[0])
