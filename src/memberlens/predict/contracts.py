"""What crosses the predict boundary: options, CLV and churn reports."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from memberlens.registry import RegisteredModel

TimeUnit = Literal["day", "week", "month"]
# A month is a twelfth of the mean Gregorian year, so 12 months make one year exactly.
UNIT_DAYS: dict[str, float] = {"day": 1.0, "week": 7.0, "month": 365.2425 / 12}
CLV_MODEL = "clv"


@dataclass(frozen=True)
class ClvOptions:
    """How CLV is fitted and valued (``[predict]`` settings).

    ``clv = margin · Σ_{m=1..horizon_months} E[M] · (E[Y(m)] - E[Y(m-1)]) /
    (1 + monthly_discount_rate)^m`` with ``Y(m)`` the expected purchases within ``m``
    months (see docs/predictions.md).
    """

    time_unit: TimeUnit = "week"
    horizon_months: int = 12
    margin: float = 1.0
    monthly_discount_rate: float = 0.01
    penalizer: float = 0.0


@dataclass(frozen=True)
class HoldoutCheck:
    """Predicted vs actual repeat transactions after the calibration end."""

    holdout_end: date
    span: float  # in time units
    predicted_repeat: float
    actual_repeat: int
    mae: float

    def to_json(self) -> dict[str, Any]:
        return {
            "holdout_end": self.holdout_end.isoformat(),
            "span": round(self.span, 4),
            "predicted_repeat": round(self.predicted_repeat, 2),
            "actual_repeat": self.actual_repeat,
            "mae": round(self.mae, 4),
        }


@dataclass(frozen=True)
class ClvReport:
    """What ``fit_clv`` did: the estimates, the holdout check, the registry entry."""

    calibration_end: date
    time_unit: str
    members: int
    repeat_members: int
    bgnbd: dict[str, float]
    gamma_gamma: dict[str, float] | None
    holdout: HoldoutCheck | None
    model: RegisteredModel
    fit_seconds: float
    warnings: tuple[str, ...] = field(default_factory=tuple)

    def to_json(self) -> dict[str, Any]:
        return {
            "calibration_end": self.calibration_end.isoformat(),
            "time_unit": self.time_unit,
            "members": self.members,
            "repeat_members": self.repeat_members,
            "bgnbd": {k: round(v, 6) for k, v in self.bgnbd.items()},
            "gamma_gamma": (
                None
                if self.gamma_gamma is None
                else {k: round(v, 6) for k, v in self.gamma_gamma.items()}
            ),
            "holdout": None if self.holdout is None else self.holdout.to_json(),
            "model": {
                "name": self.model.name,
                "version": self.model.version,
                "stage": self.model.stage,
                "artifact_sha256": self.model.artifact_sha256,
            },
            "fit_seconds": round(self.fit_seconds, 4),
            "warnings": list(self.warnings),
        }


CHURN_MODEL = "churn"


@dataclass(frozen=True)
class ChurnOptions:
    """How the churn model is trained and evaluated (``[predict]`` settings, CLI flags).

    ``horizon_days`` None: from the workspace's own gaps between purchases (the 90th
    percentile). ``cutoffs`` training cut-offs ``step_days`` apart (the latest
    validates). ``evaluate_at`` None: the latest day whose label window has ended.
    ``overlap`` lets training label windows run past the evaluation cut-off (reports
    flag the figures as optimistic).
    """

    horizon_days: int | None = None
    cutoffs: int = 4
    step_days: int = 30
    evaluate_at: date | None = None
    overlap: bool = False
    seed: int = 7


@dataclass(frozen=True)
class ChurnEvaluation:
    """A churn model trained before ``cutoff`` and scored on what happened after it."""

    cutoff: date
    horizon_days: int
    fit_cutoffs: tuple[date, ...]
    validate_cutoff: date
    overlap: bool
    model: dict[str, Any]  # classification_metrics of the churn model
    baseline: dict[str, Any]  # the BG/NBD expected-purchases score on the same rows
    next_purchase: dict[str, Any]  # MAE of the next-purchase date, with a naive peer
    clv: dict[str, Any]  # BG/NBD predicted vs actual repeat purchases in the window

    def to_json(self) -> dict[str, Any]:
        return {
            "cutoff": self.cutoff.isoformat(),
            "horizon_days": self.horizon_days,
            "fit_cutoffs": [c.isoformat() for c in self.fit_cutoffs],
            "validate_cutoff": self.validate_cutoff.isoformat(),
            "overlap": self.overlap,
            "model": self.model,
            "baseline": self.baseline,
            "next_purchase": self.next_purchase,
            "clv": self.clv,
        }


@dataclass(frozen=True)
class ChurnReport:
    """What ``fit_churn`` did: the held-out evaluation and the registered model."""

    as_of: date
    horizon_days: int
    evaluation: ChurnEvaluation
    validation: dict[str, Any]
    importance: dict[str, float]
    model: RegisteredModel
    fit_seconds: float

    def to_json(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "horizon_days": self.horizon_days,
            "test": self.evaluation.to_json(),
            "validation": self.validation,
            "importance": self.importance,
            "model": {
                "name": self.model.name,
                "version": self.model.version,
                "stage": self.model.stage,
                "artifact_sha256": self.model.artifact_sha256,
            },
            "fit_seconds": round(self.fit_seconds, 3),
        }
