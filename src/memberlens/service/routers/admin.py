"""Workspace commands over HTTP, for the CLI while the server owns the workspace."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from memberlens import protection
from memberlens.accounts import Scope, TokenInfo
from memberlens.ingest import (
    IngestRequest,
    ingest_file,
    load_mapping,
    load_preset,
    parse_mapping,
    quality_report,
)
from memberlens.privacy import ExportRequest
from memberlens.service._deps import GateDep, RunnerDep, WorkspaceDep, token_with
from memberlens.service._problems import Problem
from memberlens.workspace import Workspace

router = APIRouter(tags=["admin"])
log = logging.getLogger("memberlens.api")
# (workspace, argv, hold the gate for a job) → the output as JSON lines
HostedCommands = Callable[
    [Workspace, list[str], Callable[[str], AbstractContextManager[object]]], Iterator[str]
]
AdminToken = Annotated[TokenInfo, Depends(token_with(Scope.ADMIN))]


class IngestBody(BaseModel):
    kind: str
    path: str
    preset: str | None = None
    mapping: str | None = None
    source: str | None = None
    encoding: str | None = None


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
        encoding=body.encoding,
    )
    spec.targets(body.kind)  # a bad kind is a 400 before the warehouse is touched
    with gate.hold("ingest"):
        return ingest_file(ws.warehouse, ws.keyring, job).to_json()


class CommandBody(BaseModel):
    argv: list[str] = Field(
        min_length=1, max_length=500, description="The command line after `memberlens`."
    )


@router.post(
    "/cli",
    summary="Run a memberlens command in the server (what the CLI does while it holds the "
    'workspace); its output streams back as JSON lines, the last one {"exit": code}',
    response_class=StreamingResponse,
)
def command(
    body: CommandBody, request: Request, ws: WorkspaceDep, gate: GateDep, _: AdminToken
) -> StreamingResponse:
    hosted: HostedCommands | None = getattr(request.app.state, "commands", None)
    if hosted is None:
        raise Problem(
            404,
            "Not here",
            "this server runs no commands for clients (start it with `memberlens serve`)",
            code="NO_COMMANDS",
        )
    log.info("running a command for a client: %s", " ".join(body.argv[:2]))
    lines = hosted(ws, body.argv, lambda job: gate.hold(job))
    return StreamingResponse(lines, media_type="application/x-ndjson")


class RefreshBody(BaseModel):
    as_of: date | None = Field(None, description="See only data before this day (UTC).")
    steps: list[str] | None = Field(None, description="Run only these steps, in order.")


@router.post("/refresh", summary="Run the refresh pipeline now (as `memberlens refresh`)")
def refresh(body: RefreshBody, runner: RunnerDep, _: AdminToken) -> dict[str, Any]:
    return runner.refresh_now(as_of=body.as_of, only=body.steps).to_json()


@router.get("/privacy/keys", summary="Key ring and values per key (as `memberlens privacy keys`)")
def privacy_keys(ws: WorkspaceDep, gate: GateDep, _: AdminToken) -> dict[str, Any]:
    with gate.hold("privacy keys"):
        return protection.key_status(ws)


class RotateBody(BaseModel):
    batch_rows: int = Field(5_000, ge=1, description="Rows per batch (one transaction each).")


@router.post("/privacy/rotate-key", summary="Rotate the key (as `memberlens privacy rotate-key`)")
def privacy_rotate(
    body: RotateBody, ws: WorkspaceDep, gate: GateDep, token: AdminToken
) -> dict[str, Any]:
    # The gate is taken per batch, so imports, flushes and console pages go on between.
    report = protection.rotate_key(
        ws,
        actor=f"token:{token.token_id}",
        batch_rows=body.batch_rows,
        hold=lambda: gate.hold("privacy rotate-key"),
    )
    return report.to_json()


class RetireBody(BaseModel):
    key_id: str


@router.post(
    "/privacy/retire-key", summary="Retire an old key (as `memberlens privacy retire-key`)"
)
def privacy_retire(
    body: RetireBody, ws: WorkspaceDep, gate: GateDep, token: AdminToken
) -> dict[str, Any]:
    with gate.hold("privacy retire-key"):
        return protection.retire_key(ws, body.key_id, actor=f"token:{token.token_id}")


class ExportBody(BaseModel):
    table: str
    out: str = Field(description="File on the server's machine, .csv or .parquet.")
    pseudonymize: bool = False
    quasi: list[str] | None = None
    k_target: int = Field(5, ge=2)
    salt: Literal["export", "workspace"] = "export"


@router.post("/export", summary="Write an analytics extract (as `memberlens export`)")
def export(body: ExportBody, ws: WorkspaceDep, gate: GateDep, token: AdminToken) -> dict[str, Any]:
    request = ExportRequest(
        table=body.table,
        out=Path(body.out),
        pseudonymize=body.pseudonymize,
        quasi=tuple(body.quasi) if body.quasi else None,
        k_target=body.k_target,
        salt=body.salt,
    )
    with gate.hold("export"):
        return protection.export(ws, request, actor=f"token:{token.token_id}").to_json()
