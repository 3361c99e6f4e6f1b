"""``memberlens ingest`` and ``memberlens quality``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table as RichTable

from memberlens.cli._common import JsonOpt, QuietOpt, WorkspaceOpt, err, out, print_json, stages
from memberlens.cli._remote import remote_for
from memberlens.core.errors import UsageError, WorkspaceError
from memberlens.ingest import (
    IngestRequest,
    IngestResult,
    TableCounts,
    TableQuality,
    ingest_file,
    load_mapping,
    load_preset,
    parse_mapping,
    preset_names,
    quality_report,
    quarantined_rows,
)
from memberlens.schema import RAW_TABLES
from memberlens.workspace import Workspace

KINDS = ", ".join(RAW_TABLES)


def register(app: typer.Typer) -> None:
    app.command("ingest")(ingest)
    app.command("quality")(quality)


def ingest(
    kind: Annotated[str, typer.Argument(help=f"What the file holds: {KINDS}.")],
    file: Annotated[Path, typer.Argument(help="CSV, Parquet or JSON Lines file.")],
    mapping: Annotated[
        Path | None, typer.Option("--mapping", "-m", help="Mapping file (TOML), see docs.")
    ] = None,
    preset: Annotated[
        str | None,
        typer.Option("--preset", "-p", help="A shipped mapping: " + ", ".join(preset_names())),
    ] = None,
    source: Annotated[
        str | None,
        typer.Option(
            help="Source system name for rows without one (default: the mapping's, else 'default')."
        ),
    ] = None,
    encoding: Annotated[
        str | None,
        typer.Option(
            help="Text encoding of the file (utf-8, gb18030, big5, utf-16, ...); "
            "default: the mapping's read.encoding, else detected."
        ),
    ] = None,
    workspace: WorkspaceOpt = Path("."),
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Load a file into the canonical tables: validate, quarantine, dedupe, encrypt.

    Prints read = loaded + quarantined + duplicates. Importing the same file again
    loads nothing.
    """
    if mapping is not None and preset is not None:
        raise UsageError("give --mapping or --preset, not both")
    if kind not in RAW_TABLES:
        raise UsageError(f"unknown kind '{kind}'; choose one of: {KINDS}")
    if mapping is not None:
        spec = load_mapping(mapping)
    elif preset is not None:
        spec = load_preset(preset)
    else:
        spec = parse_mapping("", origin="(no mapping)", name="none")
    try:
        ws = Workspace.open(workspace)
    except WorkspaceError as locked:  # a server holds the workspace: ask it
        remote = remote_for(workspace, locked)
        body = {
            "kind": kind,
            "path": str(file.resolve()),
            "preset": preset,
            "mapping": str(mapping.resolve()) if mapping else None,
            "source": source,
            "encoding": encoding,
        }
        result = _result_from_json(remote.call("POST", "/ingest", body))
    else:
        with ws, stages(f"ingest {file.name}", quiet=quiet, total=3) as step:
            request = IngestRequest(
                kind=kind,
                path=file,
                mapping=spec,
                source=source,
                timezone=ws.settings.workspace.default_timezone,
                encoding=encoding,
            )
            result = ingest_file(ws.warehouse, ws.keyring, request, progress=step)
    if json_out:
        print_json(result.to_json())
    else:
        _print_result(result)


def _result_from_json(data: dict[str, Any]) -> IngestResult:
    tables = {name: TableCounts(**counts) for name, counts in data.pop("tables").items()}
    return IngestResult(**data, tables=tables)


def _print_result(r: IngestResult) -> None:
    out.print(
        f"{r.kind} from {r.file}: read {r.read:,} = loaded {r.loaded:,} "
        f"+ quarantined {r.quarantined:,} + duplicates {r.duplicates:,}"
    )
    if r.encoding not in ("", "utf-8", "utf-8-sig"):
        out.print(f"  read as {r.encoding}")
    extra = [f"updated {r.updated:,}"] if r.updated else []
    if r.orphans:
        extra.append(f"orphans {r.orphans:,} (member unknown; loaded and flagged)")
    extra += [f"{k} {v:,} (loaded and flagged)" for k, v in r.flags.items()]
    if extra:
        out.print("  " + "; ".join(extra))
    for name, c in r.tables.items():
        out.print(f"  {name}: {c.inserted:,} new, {c.updated:,} updated, {c.unchanged:,} unchanged")
    if r.quarantined:
        out.print(f"  see the rejected rows: memberlens quality --quarantine {r.run_id}")
    for w in r.warnings:
        err.print(f"[yellow]warning[/yellow]: {w}")
    out.print(f"  run {r.run_id} in {r.seconds:.1f} s")


def quality(
    workspace: WorkspaceOpt = Path("."),
    quarantine: Annotated[
        str | None, typer.Option(help="List the quarantined rows of one ingest run.")
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Per table: rows, null rate per column, invalid, duplicates, orphans, time range."""
    try:
        ws = Workspace.open(workspace)
    except WorkspaceError as locked:  # a server holds the workspace: ask it
        if quarantine is not None:
            raise
        data = remote_for(workspace, locked).call("GET", "/quality")
        report = {
            name: TableQuality(
                **{**q, "time_range": tuple(q["time_range"]) if q["time_range"] else None}
            )
            for name, q in data.items()
        }
    else:
        with ws:
            if quarantine is not None:
                _print_quarantine(ws, quarantine, json_out)
                return
            report = quality_report(ws.warehouse)
    if json_out:
        print_json({name: q.to_json() for name, q in report.items()})
        return
    grid = RichTable(
        "table", "rows", "invalid", "duplicates", "orphans", "worst null rate", "time range"
    )
    for name, q in report.items():
        worst = max(q.null_rate.items(), key=lambda kv: kv[1], default=("", 0.0))
        span = f"{q.time_range[0][:10]} .. {q.time_range[1][:10]}" if q.time_range else ""
        grid.add_row(
            name,
            f"{q.rows:,}",
            f"{q.invalid:,}",
            f"{q.duplicates:,}",
            f"{q.orphans:,}",
            f"{worst[0]} {worst[1]:.0%}" if q.rows else "",
            span,
        )
    out.print(grid)
    out.print(
        "invalid = quarantined rows; duplicates = rows equal apart from their id; "
        "orphans = rows whose member (or order) is unknown"
    )


def _print_quarantine(ws: Workspace, run_id: str, json_out: bool) -> None:
    rows = quarantined_rows(ws.warehouse, run_id)
    if json_out:
        print_json([{"line": r.line, "column": r.column, "reason": r.reason} for r in rows])
        return
    if not rows:
        out.print(f"no quarantined rows for run {run_id}")
    for r in rows:
        out.print(f"line {r.line}: {r.column or '(line)'}: {r.reason}")
