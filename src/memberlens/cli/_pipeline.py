"""``memberlens refresh`` and ``memberlens jobs``."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table as RichTable

from memberlens.cli._common import (
    JsonOpt,
    QuietOpt,
    WorkspaceOpt,
    err,
    out,
    print_json,
    stages,
)
from memberlens.cli._remote import remote_for
from memberlens.core.errors import UsageError, WorkspaceError
from memberlens.store import recent_jobs
from memberlens.workspace import Workspace, open_state


def register(app: typer.Typer) -> None:
    app.command("refresh")(refresh)
    app.command("jobs")(jobs_list)


def _day(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"--as-of '{text}' is not a date; write it as YYYY-MM-DD") from None


def refresh(
    as_of: Annotated[
        str | None,
        typer.Option(
            help="Use only data before this day (YYYY-MM-DD, UTC); default: the workspace "
            'clock, [refresh] as_of ("data": the day after the newest order or event).'
        ),
    ] = None,
    step: Annotated[
        list[str] | None, typer.Option(help="Run only this step (repeat for several).")
    ] = None,
    workspace: WorkspaceOpt = Path("."),
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Run the refresh pipeline: profile, segments, predictions, ... then the online tables.

    While `memberlens serve` holds the workspace, the server runs it.
    """
    from memberlens import pipeline  # loads every domain: only when asked

    day = _day(as_of)
    try:
        ws = Workspace.open(workspace)
    except WorkspaceError as locked:
        remote = remote_for(workspace, locked)
        body = {"as_of": day.isoformat() if day else None, "steps": step}
        result: dict[str, Any] = remote.call("POST", "/refresh", body)
    else:
        with ws, stages("refresh", quiet=quiet):
            result = pipeline.refresh(ws, as_of=day, only=step).to_json()
    if json_out:
        print_json(result)
        return
    for name, detail in result["steps"].items():
        figures = ", ".join(f"{k} {_figure(v)}" for k, v in detail.items() if k != "seconds")
        out.print(f"  {name}: {figures} ({detail['seconds']:.1f} s)")
    out.print(
        f"refresh {result['run_id']} as of {result['as_of']} ({_how(result.get('clock'))}): "
        f"{result['seconds']:.1f} s"
    )
    for warning in result.get("warnings") or []:
        err.print(f"[yellow]warning[/yellow] [{warning['code']}]: {warning['message']}")


def _how(clock: dict[str, Any] | None) -> str:
    """How the as-of was chosen, in words."""
    if not clock:
        return "given"
    newest = (clock.get("newest_data") or "")[:10] or "none yet"
    said = {
        "given": "--as-of",
        "data": f"the day after the newest data, {newest}",
        "now": "now, [refresh] as_of",
        "setting": "[refresh] as_of",
    }
    return said.get(str(clock["source"]), str(clock["source"]))


def _figure(value: Any) -> str:
    """A step's summary value for people: counts with thousands separators, maps inline."""
    if isinstance(value, bool) or value is None:
        return str(value).lower()
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.3g}"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_figure(v)}" for k, v in value.items()) + "}"
    return str(value)


def jobs_list(
    job: Annotated[str | None, typer.Option(help="Only runs of this job, e.g. refresh.")] = None,
    limit: Annotated[int, typer.Option(min=1, help="How many runs to show.")] = 20,
    workspace: WorkspaceOpt = Path("."),
    json_out: JsonOpt = False,
) -> None:
    """Recent job runs (refreshes, watched-folder imports), newest first."""
    state = open_state(workspace)  # works while a server holds the warehouse
    try:
        runs = recent_jobs(state, job=job, limit=limit)
    finally:
        state.close()
    if json_out:
        print_json([asdict(r) for r in runs])
        return
    grid = RichTable("run", "job", "status", "started (UTC)", "s")
    for r in runs:
        seconds = f"{r.duration_ms / 1000:.1f}" if r.duration_ms is not None else ""
        grid.add_row(r.run_id, r.job, r.status, _iso(r.started_at), seconds)
    out.print(grid)


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")
