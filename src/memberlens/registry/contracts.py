"""What crosses the registry boundary: a registered model and its stages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

Stage = Literal["candidate", "production", "retired"]
STAGES: tuple[str, ...] = ("candidate", "production", "retired")


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
