"""One import is atomic: a process killed half way leaves no partial rows."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

from memberlens.workspace import Workspace

pytestmark = pytest.mark.slow

TABLES = ("events", "events_history", "member_map", "quarantine", "ingest_runs")


def _events_csv(path: Path, n: int) -> Path:
    ids = [f"e{i}" for i in range(n)]
    table = pa.table(
        {
            "event_id": ids,
            "source": ["app"] * n,
            "source_member_key": [f"u{i % 5000}" for i in range(n)],
            "event_type": ["view"] * (n - 1) + ["teleport"],  # one row to quarantine
            "occurred_at": ["2025-01-01T10:00:00+08:00"] * n,
        }
    )
    pacsv.write_csv(table, path)
    return path


def _counts(root: Path) -> dict[str, int]:
    with Workspace.open(root) as ws:
        return {t: int(ws.warehouse.scalar(f"SELECT count(*) FROM {t}")) for t in TABLES}


def test_killed_import_leaves_nothing_and_a_rerun_loads_everything(
    workspace_dir: Path, tmp_path: Path
) -> None:
    n = 600_000
    path = _events_csv(tmp_path / "events.csv", n)
    cmd = [
        sys.executable,
        "-m",
        "memberlens",
        "ingest",
        "events",
        str(path),
        "--workspace",
        str(workspace_dir),
    ]
    proc = subprocess.Popen(
        cmd, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=os.environ.copy()
    )
    assert proc.stderr is not None
    for line in proc.stderr:  # stage lines: read, validate, load
        if line.strip().endswith(": load"):
            break
    time.sleep(0.3)  # well inside the load transaction (it takes seconds at this size)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL, "the import finished before it could be killed"

    assert _counts(workspace_dir) == dict.fromkeys(TABLES, 0)

    done = subprocess.run(
        [*cmd, "--json", "--quiet"], capture_output=True, text=True, timeout=300, check=True
    )
    assert '"loaded": 599999' in done.stdout and '"quarantined": 1' in done.stdout
    after = _counts(workspace_dir)
    assert after["events"] == n - 1 and after["quarantine"] == 1 and after["ingest_runs"] == 1
