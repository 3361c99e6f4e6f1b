"""Workspace commands over HTTP, for the CLI while the server owns the workspace."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from memberlens import pipeline
from memberlens.accounts import Scope, TokenInfo
from memberlens.ingest import (
    IngestRequest,
    ingest_file,
    load_mapping,
    load_preset,
    parse_mapping,
    quality_report,
)
from memberlens.service._deps import GateDep, WorkspaceDep, token_with
from memberlens.service._problems import Problem

router = APIRouter(tags=["admin"])
AdminToken = Annotated[TokenInfo, Depends(token_with(Scope.ADMIN))]


class IngestBody(BaseModel):
    kind: str
    path: str
    preset: str | None = None
    mapping: str | None = None
    source: str | None = None


@router.get("/quality", summary="Data quality per raw table (as `memberlens quality --json`)")
def quality(ws: WorkspaceDep, gate: GateDep, _: AdminToken) -> dict[str, Any]:
    with gate.hold("quality"):
        return {name: q.to_json() for name, q in quality_report(ws.warehouse).items()}


@router.post("/ingest", summary="Import a file on the server's machine (as `memberlens ingest`)")
def ingest(body: IngestBody, ws: WorkspaceDep, gate: GateDep, _: AdminToken) -> dict[str, Any]:
    if body.preset and body.mapping:
        raise Problem(400, "Bad request", "give preset or mapping, not both", code="BAD_USAGE")
    if body.preset:
        spec = load_preset(body.preset)
    elif body.mapping:
        spec = load_mapping(Path(body.mapping))
    else:
        spec = parse_mapping("", origin="(no mapping)", name="none")
    job = IngestRequest(
        kind=body.kind,
        path=Path(body.path),
        mapping=spec,
        source=body.source,
        timezone=ws.settings.workspace.default_timezone,
    )
    spec.targets(body.kind)  # a bad kind is a 400 before the warehouse is touched
    with gate.hold("ingest"):
        return ingest_file(ws.warehouse, ws.keyring, job).to_json()


class RefreshBody(BaseModel):
    as_of: date | None = Field(None, description="See only data before this day (UTC).")
    steps: list[str] | None = Field(None, description="Run only these steps, in order.")


@router.post("/refresh", summary="Run the refresh pipeline now (as `memberlens refresh`)")
def refresh(body: RefreshBody, ws: WorkspaceDep, gate: GateDep, _: AdminToken) -> dict[str, Any]:
    with gate.hold("refresh"):
        return pipeline.refresh(ws, as_of=body.as_of, only=body.steps).to_json()
