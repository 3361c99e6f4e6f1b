"""Commands a server runs for a client while it holds the workspace.

Embedded DuckDB admits one process, so while `memberlens serve` holds a workspace a
command from another terminal cannot open it. The command is then sent whole to the
server (``cli._remote``), which runs it here: in a thread of its own, with the
server's open workspace lent to it (``workspace.lending``) and its output streamed
back line by line. Commands that only read run at once on their thread's own
connection (they see the last completed refresh); the others wait for the
warehouse gate like any job.
"""

from __future__ import annotations

import io
import json
import queue
import re
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from contextvars import ContextVar
from typing import Any, TextIO

from memberlens.workspace import Workspace, lending

# Commands that read and never write the warehouse: they need no gate.
READ_ONLY = frozenset(
    {
        "dictionary",
        "identity show",
        "models list",
        "privacy keys",
        "recommend show",
        "recommend similar",
        "segment baskets",
        "segment clusters",
        "segment lifecycle",
        "segment list",
        "segment members",
        "segment preview",
        "segment rfm",
        "tags check",
        "tags list",
        "tags unused",
        "user list",
    }
)
# Commands that make or hold a workspace of their own: never run inside a server.
NOT_HOSTED = frozenset({"serve", "demo", "init"})
_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")
_SINK: ContextVar[Callable[[str, str], None] | None] = ContextVar(
    "memberlens_cli_sink", default=None
)

Hold = Callable[[str], AbstractContextManager[object]]


class _Routed(io.TextIOBase):
    """A process stream that a hosted command's thread writes to its client instead."""

    def __init__(self, real: TextIO, name: str) -> None:
        self._real, self._name = real, name

    def write(self, text: str) -> int:
        sink = _SINK.get()
        if sink is None:
            return self._real.write(text)
        sink(self._name, _ANSI.sub("", text))
        return len(text)

    def flush(self) -> None:
        if _SINK.get() is None:
            self._real.flush()

    def isatty(self) -> bool:
        return False if _SINK.get() is not None else self._real.isatty()

    def fileno(self) -> int:
        return self._real.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return "utf-8" if _SINK.get() is not None else self._real.encoding


class _NoInput(io.TextIOBase):
    """A hosted command cannot ask its client a question: reading gives end of input."""

    def __init__(self, real: TextIO) -> None:
        self._real = real

    def read(self, size: int | None = -1) -> str:
        return "" if _SINK.get() is not None else self._real.read(-1 if size is None else size)

    def readline(self, size: int | None = -1) -> str:  # type: ignore[override]
        if _SINK.get() is not None:
            return ""
        return self._real.readline(-1 if size is None else size)

    def isatty(self) -> bool:
        return False if _SINK.get() is not None else self._real.isatty()

    def fileno(self) -> int:
        return self._real.fileno()


_installed = threading.Lock()


def route_streams() -> None:
    """Let hosted commands' threads write to their clients (once per process)."""
    with _installed:
        if not isinstance(sys.stdout, _Routed):
            sys.stdout = _Routed(sys.stdout, "out")
        if not isinstance(sys.stderr, _Routed):
            sys.stderr = _Routed(sys.stderr, "err")
        if not isinstance(sys.stdin, _NoInput):
            sys.stdin = _NoInput(sys.stdin)


def run_hosted(ws: Workspace, argv: list[str], hold: Hold) -> Iterator[str]:
    """Run ``argv`` for a client; its output as JSON lines (``{"out": …}``,
    ``{"err": …}``, last ``{"exit": code}``), as it is written."""
    from memberlens.cli._app import run  # the command table: only when a command comes

    lines: queue.Queue[dict[str, Any]] = queue.Queue()
    name = _command_name(argv)
    if name.split(" ")[0] in NOT_HOSTED:
        refused = f"error [BAD_USAGE]: `memberlens {name}` does not run inside a server\n"
        yield json.dumps({"err": refused}) + "\n"
        yield json.dumps({"exit": 2}) + "\n"
        return

    def work() -> None:
        token = _SINK.set(lambda stream, text: lines.put({stream: text}))
        try:
            with lending(ws):
                if name in READ_ONLY:
                    code = run(argv, forward=False)
                else:
                    with hold(f"command {name}"):
                        code = run(argv, forward=False)
        except BaseException as exc:  # the thread must always say how it ended
            lines.put({"err": f"error: {type(exc).__name__}: {exc}\n"})
            code = 1
        finally:
            _SINK.reset(token)
        lines.put({"exit": code})

    threading.Thread(target=work, name=f"memberlens-cli {name}", daemon=True).start()
    while True:
        line = lines.get()
        yield json.dumps(line, ensure_ascii=False) + "\n"
        if "exit" in line:
            return


def _command_name(argv: list[str]) -> str:
    """The command's words (``segment rfm``), options left out."""
    words: list[str] = []
    for token in argv:
        if token.startswith("-") or len(words) == 2:
            break
        words.append(token)
    return " ".join(words)
