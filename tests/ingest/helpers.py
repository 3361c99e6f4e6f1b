"""Small helpers for ingest tests: write a file, import it, read tables back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from memberlens.ingest import IngestRequest, IngestResult, ingest_file, parse_mapping
from memberlens.workspace import Workspace


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def run(ws: Workspace, kind: str, path: Path, mapping: str = "", **kw: Any) -> IngestResult:
    spec = parse_mapping(mapping, origin="test", name="test")
    request = IngestRequest(kind=kind, path=path, mapping=spec, timezone="Asia/Shanghai", **kw)
    return ingest_file(ws.warehouse, ws.keyring, request)


def rows(ws: Workspace, sql: str) -> list[tuple[Any, ...]]:
    return ws.warehouse.fetch_all(sql)


def balanced(r: IngestResult) -> bool:
    return r.read == r.loaded + r.quarantined + r.duplicates
