"""The model registry in the state DB: one row per fitted model version (DESIGN: Models).

Artifacts live beside the state DB as content-addressed, non-executable JSON files
under the workspace's ``models/`` folder; a row names its file by sha256 so a changed
or swapped file is detected when it is loaded.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from memberlens.store._state import Base


class ModelRegistryRow(Base):
    """A fitted model: name, version, stage, training window, parameters, metrics."""

    __tablename__ = "model_registry"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    stage: Mapped[str] = mapped_column(String(16), index=True)  # candidate | production | retired
    created_at: Mapped[datetime] = mapped_column(DateTime)
    training_window_start: Mapped[date | None] = mapped_column(Date, nullable=True)
    training_window_end: Mapped[date | None] = mapped_column(Date, nullable=True)
    params: Mapped[str] = mapped_column(Text)  # JSON object
    metrics: Mapped[str] = mapped_column(Text)  # JSON object
    data_fingerprint: Mapped[str] = mapped_column(String(64))
    artifact_sha256: Mapped[str] = mapped_column(String(64))
    artifact_path: Mapped[str] = mapped_column(Text)  # relative to the workspace
