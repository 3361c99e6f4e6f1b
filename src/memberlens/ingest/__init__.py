"""Ingest: readers, mappings and presets, vectorised validation, quarantine, dedupe."""

from memberlens.ingest._load import IngestRequest, ingest_file
from memberlens.ingest._mapping import (
    ColumnSpec,
    Mapping,
    ReadSpec,
    load_mapping,
    load_preset,
    parse_mapping,
    preset_names,
)
from memberlens.ingest._quality import quality_report, quarantined_rows
from memberlens.ingest._quarantine import quarantine_records
from memberlens.ingest.contracts import IngestResult, QuarantineRow, TableCounts, TableQuality

__all__ = [
    "ColumnSpec",
    "IngestRequest",
    "IngestResult",
    "Mapping",
    "QuarantineRow",
    "ReadSpec",
    "TableCounts",
    "TableQuality",
    "ingest_file",
    "load_mapping",
    "load_preset",
    "parse_mapping",
    "preset_names",
    "quality_report",
    "quarantine_records",
    "quarantined_rows",
]
