"""What every command shares: the workspace option, output, progress, errors."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

WorkspaceOpt = Annotated[
    Path,
    typer.Option(
        "--workspace",
        "-w",
        help="Workspace directory.",
        envvar="MEMBERLENS_WORKSPACE",
        show_default="current directory",
    ),
]
JsonOpt = Annotated[
    bool, typer.Option("--json", help="Print the result as JSON (see docs/cli.md).")
]
QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress output.")]

err = Console(stderr=True, highlight=False)
out = Console(highlight=False)


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=str) + "\n")


@contextmanager
def stages(title: str, *, quiet: bool, total: int | None = None) -> Iterator[Callable[[str], None]]:
    """Report the stages of long work on stderr: a progress bar on a terminal (a bar
    over ``total`` stages, or a spinner), one line per stage in a log; nothing with
    --quiet. Call the yielded function with each stage's name as it starts."""
    if quiet:
        yield lambda _stage: None
        return
    if not err.is_terminal:

        def log(stage: str) -> None:
            err.print(f"{title}: {stage}")

        yield log
        return
    columns = [SpinnerColumn(), TextColumn("{task.description}")]
    if total:
        columns += [BarColumn(), MofNCompleteColumn()]
    columns.append(TimeElapsedColumn())
    with Progress(*columns, console=err, transient=False) as bar:
        task = bar.add_task(title, total=total)
        started = False

        def update(stage: str) -> None:
            nonlocal started
            if started and total:
                bar.advance(task)
            started = True
            bar.update(task, description=f"{title}: {stage}")

        yield update
        if total:
            bar.update(task, completed=total, description=f"{title}: done")
