"""The ``memberlens`` command: one Typer app, one module per command group."""

from __future__ import annotations

import os
import sys

import typer

from memberlens import __version__
from memberlens.cli import (
    _data,
    _demo,
    _identity,
    _pipeline,
    _predict,
    _privacy,
    _profile,
    _recommend,
    _segment,
    _serve,
    _tags,
    _text,
    _users,
    _workspace,
)
from memberlens.cli._common import err
from memberlens.core.errors import MemberlensError

app = typer.Typer(
    name="memberlens",
    help="memberlens: member data in, profiles, segments, predictions and campaigns out.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"memberlens {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show the version and exit."
    ),
) -> None:
    """memberlens: member data in, profiles, segments, predictions and campaigns out."""


_workspace.register(app)
_data.register(app)
_pipeline.register(app)
_identity.register(app)
_demo.register(app)
_users.register(app)
_serve.register(app)
_privacy.register(app)
_profile.register(app)
_segment.register(app)
_recommend.register(app)
_tags.register(app)
_predict.register(app)
_text.register(app)


def main() -> None:
    """Entry point: domain errors become one clear line and exit code 1 (2 for usage)."""
    try:
        code = app(standalone_mode=False)
    except MemberlensError as exc:
        err.print(f"[red]error[/red] [{exc.code}]: {exc.message}", markup=True, soft_wrap=True)
        sys.exit(exc.exit_code)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        err.print("aborted")
        sys.exit(1)
    except KeyboardInterrupt:
        err.print("interrupted: nothing was committed by the step that was running")
        sys.exit(130)
    except Exception as exc:
        show = getattr(exc, "show", None)
        if callable(show) and isinstance(getattr(exc, "exit_code", None), int):
            show()  # a usage error from the parser: exit code 2
            sys.exit(exc.exit_code)  # type: ignore[attr-defined]
        if os.environ.get("MEMBERLENS_DEBUG"):
            raise
        err.print(
            f"[red]internal error[/red]: {type(exc).__name__}: {exc}\n"
            "This is a bug in memberlens; rerun with MEMBERLENS_DEBUG=1 for the traceback "
            "and report it.",
            soft_wrap=True,
        )
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)
