"""What crosses the ingest boundary."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class TableCounts:
    """What one import did to one canonical table."""

    inserted: int
    updated: int
    unchanged: int


@dataclass(frozen=True)
class IngestResult:
    """The outcome of one import: ``read = loaded + quarantined + duplicates``.

    Counts are of source rows; ``updated``, ``orphans`` and ``flags`` (rows kept but
    flagged, e.g. ``out_of_window``) are parts of ``loaded``.
    """

    run_id: str
    kind: str
    file: str
    mapping: str
    read: int
    loaded: int
    updated: int
    quarantined: int
    duplicates: int
    orphans: int
    flags: dict[str, int]
    tables: dict[str, TableCounts]
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0
    encoding: str = ""  # the text encoding read (detected or declared); "" for Parquet

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class QuarantineRow:
    """One rejected row as a person reads it (personal values masked)."""

    line: int | None
    column: str | None
    reason: str


@dataclass(frozen=True)
class TableQuality:
    """Quality figures of one raw table (``memberlens quality``)."""

    rows: int
    null_rate: dict[str, float]
    invalid: int
    duplicates: int
    orphans: int
    time_range: tuple[str, str] | None

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["time_range"] = list(self.time_range) if self.time_range else None
        return data
