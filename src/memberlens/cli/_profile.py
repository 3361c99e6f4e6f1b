"""``memberlens dictionary``: the member features' data dictionary."""

from __future__ import annotations

import difflib
from typing import Annotated

import typer
from rich.table import Table as RichTable

from memberlens import profile
from memberlens.cli._common import JsonOpt, out, print_json
from memberlens.core.errors import UsageError


def register(app: typer.Typer) -> None:
    app.command("dictionary")(dictionary)


def dictionary(
    name: Annotated[str | None, typer.Argument(help="One feature (default: all).")] = None,
    json_out: JsonOpt = False,
) -> None:
    """List the member features: name, type, unit, meaning and formula.

    Each feature is defined once in code; this is that definition. The features are
    stored per snapshot in the member_features table (see docs/data-model.md).
    """
    defs = profile.feature_defs()
    if name is not None:
        defs = tuple(f for f in defs if f.name == name)
        if not defs:
            near = difflib.get_close_matches(name, profile.feature_names(), n=3)
            hint = f"did you mean {', '.join(near)}? " if near else ""
            raise UsageError(f"no feature '{name}'; {hint}run `memberlens dictionary` for all")
    if json_out:
        print_json(
            {"feature_version": profile.feature_version(), "features": [f.to_json() for f in defs]}
        )
        return
    grid = RichTable("feature", "type", "unit", "description", "formula", show_lines=True)
    for f in defs:
        grid.add_row(f.name, f.type.value, f.unit, f.description, f.formula)
    out.print(grid)
    out.print(f"{len(defs)} features, version {profile.feature_version()}")
