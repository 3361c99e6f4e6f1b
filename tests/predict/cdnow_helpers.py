"""The CDNOW sample in a workspace, through a test-local mapping (the file has no header)."""

from __future__ import annotations

from pathlib import Path

from memberlens.ingest import IngestRequest, ingest_file, load_mapping
from memberlens.workspace import Workspace
from tests.conftest import DATASETS

SAMPLE = DATASETS / "cdnow" / "CDNOW_sample.txt"
PUBLISHED_SUMMARY = DATASETS / "cdnow" / "cdnow_customers_summary.csv"
MAPPING = Path(__file__).with_name("cdnow_sample.toml")


def load_sample(ws: Workspace) -> None:
    request = IngestRequest(kind="orders", path=SAMPLE, mapping=load_mapping(MAPPING))
    result = ingest_file(ws.warehouse, ws.keyring, request)
    assert result.loaded == result.read == 6_919
