"""What crosses the predict boundary: options, registry entries, CLV reports."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

TimeUnit = Literal["day", "week", "month"]
# A month is a twelfth of the mean Gregorian year, so 12 months make one year exactly.
UNIT_DAYS: dict[str, float] = {"day": 1.0, "week": 7.0, "month": 365.2425 / 12}
Stage = Literal["candidate", "production", "retired"]
STAGES: tuple[str, ...] = ("candidate", "production", "retired")
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
class RegisteredModel:
    """One row of the model registry: a fitted model, its stage and where its artifact is."""

    name: str
    version: int
    stage: str
    created_at: datetime
    training_window_start: date | None
    training_window_end: date | None
    params: dict[str, Any]
    metrics: dict[str, Any]
    data_fingerprint: str
    artifact_sha256: str
    artifact_path: str

    def to_json(self) -> dict[str, Any]:
        def day(value: date | None) -> str | None:
            return value.isoformat() if value else None

        return {
            "name": self.name,
            "version": self.version,
            "stage": self.stage,
            "created_at": self.created_at.isoformat() + "Z",
            "training_window_start": day(self.training_window_start),
            "training_window_end": day(self.training_window_end),
            "params": self.params,
            "metrics": self.metrics,
            "data_fingerprint": self.data_fingerprint,
            "artifact_sha256": self.artifact_sha256,
            "artifact_path": self.artifact_path,
        }


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
