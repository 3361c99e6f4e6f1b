"""What every command shares: the workspace option, output, progress, errors."""

from __future__ import annotations

import json
import sys
import time
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

from memberlens.core import progress

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
    """Report the stages of long work on stderr: a progress bar on a terminal, a line
    per stage in a log; nothing with --quiet.

    Two ways in: call the yielded function with each stage's name as it starts (with
    ``total`` stages, the bar counts them), and whatever the work inside reports through
    ``core.progress`` — its steps, and the share done inside the current one — shows on
    the same bar.
    """
    if quiet:
        yield lambda _stage: None
        return
    view = _TerminalView(title, total) if err.is_terminal else _LogView(title)
    with view, progress.listen(view.update):
        yield view.say


class _LogView:
    """Progress for a log: a line when a step starts, the share every so often."""

    EVERY_SECONDS = 15.0

    def __init__(self, title: str) -> None:
        self.title = title
        self._last_path: tuple[str, ...] = ()
        self._last_line = 0.0

    def __enter__(self) -> _LogView:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    def say(self, stage: str) -> None:
        err.print(f"{self.title}: {stage}")

    def update(self, u: progress.Update) -> None:
        inner = _inner(self.title, u.stages)
        now = time.monotonic()
        if inner and inner[:2] != self._last_path[:2]:
            self.say(" › ".join(inner[:2]))
            self._last_line = now
        elif u.done and u.share is not None and now - self._last_line >= self.EVERY_SECONDS:
            note = f" ({u.note})" if u.note else ""
            err.print(f"{self.title}: {' › '.join(inner)} {u.share:.0%}{note}")
            self._last_line = now
        self._last_path = inner


class _TerminalView:
    """Progress on a terminal: one bar — the steps done — with the current step, its
    inner stage and the share done inside it."""

    def __init__(self, title: str, total: int | None) -> None:
        self.title, self.total = title, total
        columns = [SpinnerColumn(), TextColumn("{task.description}")]
        columns += [BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()]
        self._bar = Progress(*columns, console=err, transient=False)
        self._task = self._bar.add_task(title, total=total)
        self._said = 0

    def __enter__(self) -> _TerminalView:
        self._bar.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if exc[0] is None and self.total:
            self._bar.update(self._task, completed=self.total, description=f"{self.title}: done")
        self._bar.__exit__(None, None, None)

    def say(self, stage: str) -> None:
        if self._said and self.total:
            self._bar.advance(self._task)
        self._said += 1
        self._bar.update(self._task, description=f"{self.title}: {stage}")

    def update(self, u: progress.Update) -> None:
        inner = _inner(self.title, u.stages)
        if u.stages == (self.title,):  # the command's own stage counts its steps
            if u.total:
                self._bar.update(self._task, total=u.total, completed=u.done)
            return
        if not inner:
            return
        # a step's own share (not the bare mark of its start), not the count of steps
        inside = len(u.stages) > 1 and (u.done > 0 or bool(u.note))
        share = f" {u.share:.0%}" if u.share is not None and inside else ""
        note = f" · {u.note}" if u.note and inside else ""
        self._bar.update(self._task, description=f"{self.title}: {' › '.join(inner)}{share}{note}")


def _inner(title: str, stages: tuple[str, ...]) -> tuple[str, ...]:
    """The stages below the command's own (a refresh's ``refresh`` stage is the bar)."""
    return stages[1:] if stages and stages[0] == title else stages
