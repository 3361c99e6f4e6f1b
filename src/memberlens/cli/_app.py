"""The ``memberlens`` command: one Typer app, one module per command group."""

from __future__ import annotations

import os
import signal
import sys
import threading
from types import FrameType

import typer
from rich.markup import escape

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
from memberlens.cli._remote import forward_to_server
from memberlens.core.errors import Interrupted, MemberlensError, WorkspaceError

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


def _watch_sigint() -> threading.Event:
    """Remember a Ctrl-C. DuckDB turns the signal into an error of its own (a
    ``RuntimeError('Query interrupted')``), which must not read as a bug in memberlens."""
    seen = threading.Event()
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:

        def remember(signum: int, frame: FrameType | None) -> None:
            seen.set()
            signal.default_int_handler(signum, frame)

        signal.signal(signal.SIGINT, remember)
    return seen


def main() -> None:
    """Entry point: domain errors become one clear line and exit code 1 (2 for usage);
    Ctrl-C exits 130 with what it stopped."""
    sys.exit(run(sys.argv[1:], sigint=_watch_sigint()))


def run(argv: list[str], *, forward: bool = True, sigint: threading.Event | None = None) -> int:
    """Run one command line; its exit code. A command refused because a server holds
    the workspace is run by that server instead (``forward``), its output shown here.
    ``sigint`` is set once Ctrl-C arrived (``main`` watches for it): an error raised
    after it is the interruption, not a bug."""
    try:
        code = app(args=argv, prog_name="memberlens", standalone_mode=False)
    except Interrupted as exc:
        err.print(exc.message, markup=False, soft_wrap=True)
        return exc.exit_code
    except WorkspaceError as exc:
        if forward and exc.code == "WORKSPACE_LOCKED" and exc.root is not None:
            return forward_to_server(app, argv, exc)
        return _failed(exc)
    except MemberlensError as exc:
        return _failed(exc)
    except typer.Exit as exc:
        return int(exc.exit_code)
    except typer.Abort:
        err.print("aborted")
        return 1
    except KeyboardInterrupt:
        err.print("interrupted: nothing was committed by the step that was running")
        return 130
    except Exception as exc:
        if sigint is not None and sigint.is_set():
            err.print("interrupted: nothing was committed by the step that was running")
            return 130
        show = getattr(exc, "show", None)
        if callable(show) and isinstance(getattr(exc, "exit_code", None), int):
            show()  # a usage error from the parser: exit code 2
            return int(exc.exit_code)  # type: ignore[attr-defined]
        if os.environ.get("MEMBERLENS_DEBUG"):
            raise
        err.print(
            f"[red]internal error[/red]: {type(exc).__name__}: {exc}\n"
            "This is a bug in memberlens; rerun with MEMBERLENS_DEBUG=1 for the traceback "
            "and report it.",
            soft_wrap=True,
        )
        return 1
    return code if isinstance(code, int) else 0


def _failed(exc: MemberlensError) -> int:
    # The message is text, not markup: "[tables.orders]" in it must print as written.
    err.print(
        f"[red]error[/red] \\[{exc.code}]: {escape(exc.message)}", markup=True, soft_wrap=True
    )
    return exc.exit_code
