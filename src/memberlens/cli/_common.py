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
def stages(title: str, *, quiet: bool) -> Iterator[Callable[[str], None]]:
    """A spinner that names the current stage on stderr; silent with --quiet."""
    if quiet or (not err.is_terminal and not err.is_interactive):
        # Still tell a log what is happening, one line per stage, unless asked not to.
        def log(stage: str) -> None:
            if not quiet:
                err.print(f"{title}: {stage}")

        yield log
        return
    with err.status(f"{title}…") as status:

        def update(stage: str) -> None:
            status.update(f"{title}: {stage}…")

        yield update
