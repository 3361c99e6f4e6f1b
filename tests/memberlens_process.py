"""Run ``memberlens`` as a command in a process of its own, without paying its imports.

The suite runs about 180 commands. Each, as ``python -m memberlens``, spent 1.5–2.5
CPU-seconds starting: the interpreter, then DuckDB, Ibis, SQLAlchemy, PyArrow, pandas,
alembic and, for some, scikit-learn — the same libraries every time, on a 2-core machine
whose suite is CPU-bound. Here each command runs in a fresh process forked from a server
that has imported those libraries once (``tests/_warm.py``, one per test worker).

What the command sees is what ``python -m memberlens`` would give it: memberlens itself
is not in the server (imported, then dropped), so every command imports it afresh, and
anything memberlens reads at import (the console's width and colours, the allocator
setting) it reads from the command's own environment; ``runpy`` runs ``memberlens`` as
``__main__`` with the given arguments; the working directory, environment, stdin,
stdout, stderr and exit code are the command's own; at its end non-daemon threads are
joined and the :mod:`atexit` functions run, as the interpreter does. What it skips is
the interpreter's start and the third-party imports (which read their own settings,
such as ``OMP_WAIT_POLICY``, once, from the test run's environment). The entry point
itself — a bare interpreter starting ``python -m memberlens`` — stays tested by the
tests that start real processes: ``tests/cli/test_startup.py``, the Ctrl-C and kill
tests, ``test_entry_point_is_the_same_command`` and every server.
"""

from __future__ import annotations

import json
import locale
import os
import select
import signal
import subprocess
import sys
import tempfile
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path

_REPO = Path(__file__).resolve().parents[1]
_lock = threading.Lock()
_server: subprocess.Popen[str] | None = None


def run(
    args: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    cwd: str | Path | None = None,
    input: str | None = None,
    timeout: float = 540,
    check: bool = False,
) -> subprocess.CompletedProcess[str]:
    """As ``subprocess.run([python, "-m", "memberlens", *args], capture_output=True,
    text=True, ...)``, with stdin ``input`` (empty when not given)."""
    argv = [sys.executable, "-m", "memberlens", *args]
    encoding = locale.getpreferredencoding(False)
    with tempfile.TemporaryDirectory(prefix="memberlens-command-") as tmp:
        paths = {name: Path(tmp) / name for name in ("stdin", "stdout", "stderr", "status")}
        paths["stdin"].write_text(input or "", encoding=encoding)
        for name in ("stdout", "stderr"):
            paths[name].touch()
        done = Path(tmp) / "done"
        os.mkfifo(done)
        reader = os.open(done, os.O_RDONLY | os.O_NONBLOCK)
        try:
            pid = _start(
                {
                    "argv": list(args),
                    "env": dict(os.environ if env is None else env),
                    "cwd": str(Path(cwd) if cwd is not None else Path.cwd()),
                    "done": str(done),
                    **{name: str(path) for name, path in paths.items()},
                }
            )
            finished = _wait(reader, timeout)
            if not finished:
                os.kill(pid, signal.SIGKILL)
                _wait(reader, 30)
        finally:
            os.close(reader)
        out, err = (paths[n].read_text(encoding, errors="replace") for n in ("stdout", "stderr"))
        if not finished:
            raise subprocess.TimeoutExpired(argv, timeout, out, err)
        status = paths["status"].read_text(encoding="utf-8") if paths["status"].exists() else ""
    # no status: a signal ended it before its end (reported as SIGKILL, whichever it was)
    code = int(status) if status else -signal.SIGKILL
    completed = subprocess.CompletedProcess(argv, code, out, err)
    if check:
        completed.check_returncode()
    return completed


def _start(request: dict[str, object]) -> int:
    """Hand the request to this worker's server (started on first use); the pid."""
    global _server
    with _lock:
        if _server is None or _server.poll() is not None:
            _server = subprocess.Popen(
                [sys.executable, "-c", "from tests._warm import serve; serve()"],
                cwd=_REPO,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
                encoding="utf-8",
            )
        assert _server.stdin is not None and _server.stdout is not None
        _server.stdin.write(json.dumps(request) + "\n")
        _server.stdin.flush()
        answer = _server.stdout.readline()
    if not answer:
        raise RuntimeError(f"the command server stopped (exit {_server.wait()})")
    return int(answer)


def _wait(reader: int, timeout: float) -> bool:
    """Whether the command ended (every holder of the FIFO's write end is gone)."""
    ready, _, _ = select.select([reader], [], [], timeout)
    while ready:
        if not os.read(reader, 4096):
            return True
        ready, _, _ = select.select([reader], [], [], timeout)
    return False
