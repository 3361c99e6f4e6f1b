"""Real `memberlens serve` processes for the tests that need one (process, fuzz, browser)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_up(url: str, proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the server exited during start-up"
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.2)
    raise AssertionError("the server did not answer within 30 s")


def start_server(
    workspace_dir: Path,
    env: dict[str, str] | None = None,
    *,
    capture: bool = True,
    log: Path | None = None,
) -> tuple[subprocess.Popen[str], str]:
    """A real `memberlens serve` on a free loopback port, answering; and its API base URL.

    Output goes to a pipe (``capture``, for short runs: a full pipe would block a busy
    server), to the file ``log``, or nowhere.
    """
    port = free_port()
    out = log.open("w") if log is not None else None
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "memberlens",
            "serve",
            "--port",
            str(port),
            "-w",
            str(workspace_dir),
        ],
        stdout=out or (subprocess.PIPE if capture else subprocess.DEVNULL),
        stderr=subprocess.STDOUT,
        text=True,
        env=env or os.environ.copy(),
    )
    if out is not None:
        out.close()  # the child holds its own copy
    base = f"http://127.0.0.1:{port}/api/v1"
    try:
        _wait_up(f"{base}/health", proc)
    except AssertionError:
        stop_server(proc)
        raise
    return proc, base


def stop_server(proc: subprocess.Popen[str]) -> None:
    """A graceful stop (SIGTERM), as an operator would; killed if it hangs."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)
