"""``memberlens dictionary``: the member features' data dictionary."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table as RichTable

from memberlens import profile
from memberlens.cli._common import JsonOpt, out, print_json
from memberlens.core.errors import UsageError
from memberlens.workspace import Workspace


def register(app: typer.Typer) -> None:
    app.command("dictionary")(dictionary)


def dictionary(
    name: Annotated[str | None, typer.Argument(help="One feature (default: all).")] = None,
    workspace: Annotated[
        Path | None,
        typer.Option(
            "--workspace",
            "-w",
            help="Also show how filled each feature is in this workspace's last refresh.",
            envvar="MEMBERLENS_WORKSPACE",
        ),
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """List the member features: name, type, unit, meaning and formula.

    Each feature is defined once in code; this is that definition. The features are
    stored per snapshot in the member_features table (see docs/data-model.md); with
    --workspace, the share of members with a value in its latest snapshot too.
    """
    coverage = None
    if workspace is not None:
        with Workspace.open(workspace) as ws:
            coverage = profile.feature_coverage(ws.warehouse)
    defs = profile.feature_defs()
    if name is not None:
        defs = tuple(f for f in defs if f.name == name)
        if not defs:
            near = difflib.get_close_matches(name, profile.feature_names(), n=3)
            hint = f"did you mean {', '.join(near)}? " if near else ""
            raise UsageError(f"no feature '{name}'; {hint}run `memberlens dictionary` for all")
    if json_out:
        features = [
            {**f.to_json(), **({"filled": coverage.filled[f.name]} if coverage else {})}
            for f in defs
        ]
        print_json({"feature_version": profile.feature_version(), "features": features})
        return
    columns = ["feature", "type", "unit", "description", "formula"]
    grid = RichTable(*columns, *(["filled"] if coverage else []), show_lines=True)
    for f in defs:
        row = [f.name, f.type.value, f.unit, f.description, f.formula]
        if coverage:
            share = coverage.filled[f.name]
            row.append("—" if share is None else f"{share:.0%}")
        grid.add_row(*row)
    out.print(grid)
    out.print(f"{len(defs)} features, version {profile.feature_version()}")
    if coverage:
        day = coverage.snapshot_date.isoformat() if coverage.snapshot_date else "no refresh yet"
        out.print(f"filled: share of the {coverage.members:,} members with a value, as of {day}")
