"""The command fork server of ``tests/memberlens_process.py`` (run as its own process).

It imports the third-party libraries memberlens's commands use — importing the CLI
(and so DuckDB, Ibis, SQLAlchemy, PyArrow, NumPy, pydantic, Typer), then those some
commands import where they use them — and drops memberlens's own modules again. Then it
reads one request per line on stdin (JSON: argv, environment, working directory, the
paths of stdin, stdout, stderr, exit-status file and the "done" FIFO) and forks a
process for each, answering its pid. The forked process is ``python -m memberlens``
from there on: memberlens is imported afresh, under the command's own environment.
"""

from __future__ import annotations

import atexit
import importlib
import io
import json
import locale
import os
import runpy
import signal
import sys
import threading
import traceback
from collections.abc import Mapping
from typing import Any

LATER = (  # imported by some commands where they use them (tests/cli/test_startup.py)
    "pandas",
    "alembic.command",
    "alembic.config",
    "ibis.backends.duckdb",
    "scipy.optimize",
    "scipy.stats",
    "sklearn.feature_extraction.text",
    "sklearn.linear_model",
    "sklearn.cluster",
    "sklearn.metrics",
    "sklearn.model_selection",
    "sklearn.decomposition",
    "lightgbm",
    "implicit.cpu.als",
    "implicit.cpu.bpr",
    "jieba",
    "opencc",
    "httpx",
)


def serve() -> None:
    """Warm up, then fork a command per request until stdin closes."""
    requests = sys.stdin
    answers = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)  # whatever an import prints must not end up in the answers
    importlib.import_module("memberlens.cli")
    for name in LATER:
        importlib.import_module(name)
    for name in [m for m in sys.modules if m == "memberlens" or m.startswith("memberlens.")]:
        del sys.modules[name]
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the kernel reaps the commands
    for line in requests:
        request = json.loads(line)
        done = os.open(request["done"], os.O_WRONLY | os.O_NONBLOCK)  # held until exit
        pid = os.fork()
        if pid == 0:
            answers.close()  # the command holds nothing of the server's
            _command(request, done)  # never returns
        os.close(done)
        answers.write(f"{pid}\n")
        answers.flush()


def _command(request: dict[str, Any], done: int) -> None:
    """In the forked process: become ``python -m memberlens *argv``, run, exit."""
    code = 1
    try:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        streams = (
            (0, "stdin", os.O_RDONLY),
            (1, "stdout", os.O_WRONLY),
            (2, "stderr", os.O_WRONLY),
        )
        for fd, key, flags in streams:
            opened = os.open(request[key], flags)
            os.dup2(opened, fd)
            os.close(opened)
        encoding = _encoding(request["env"])
        sys.stdin = sys.__stdin__ = io.TextIOWrapper(io.FileIO(0, "r", closefd=False), encoding)
        sys.stdout = sys.__stdout__ = io.TextIOWrapper(io.FileIO(1, "w", closefd=False), encoding)
        sys.stderr = sys.__stderr__ = io.TextIOWrapper(
            io.FileIO(2, "w", closefd=False), encoding, "backslashreplace", line_buffering=True
        )
        sys.argv = ["-m", *request["argv"]]
        sys.path[0] = request["cwd"]  # `python -m` puts the working directory first
        code = _run()
        threading._shutdown()  # type: ignore[attr-defined]  # as the interpreter exits:
        atexit._run_exitfuncs()  # non-daemon threads, then atexit, then the streams
        sys.stdout.flush()
        sys.stderr.flush()
    except BaseException:  # the harness itself failed: say so where the test looks
        traceback.print_exc()
        code = 1
    finally:
        with open(request["status"], "w", encoding="utf-8") as status:
            status.write(str(code))
        os._exit(code)


def _run() -> int:
    """Run ``memberlens`` as ``__main__``; its exit code, as the interpreter gives it."""
    try:
        runpy.run_module("memberlens", run_name="__main__", alter_sys=True)
    except SystemExit as exc:
        if exc.code is None:
            return 0
        if isinstance(exc.code, int):
            return exc.code
        print(exc.code, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        traceback.print_exc()
        return 130
    except BaseException:
        traceback.print_exc()
        return 1
    return 0


def _encoding(env: Mapping[str, str]) -> str:
    """The encoding Python gives a piped stdout under ``env``."""
    if chosen := env.get("PYTHONIOENCODING", "").split(":")[0]:
        return chosen
    if env.get("PYTHONUTF8") == "1":
        return "utf-8"
    return locale.getpreferredencoding(False)


if __name__ == "__main__":
    serve()
