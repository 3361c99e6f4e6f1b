"""Every benchmark in bench/ still runs, and its comparison still holds, at a tiny size.

Each script's ``--smoke`` takes its own code path (the same generated data, memberlens
calls, peers and equality checks) on data small enough for seconds; the full sizes stay
out of the suite (``make bench``). A benchmark whose side-by-side comparison stopped
holding (a feature added to the profile but not to the hand-written SQL, a peer giving
other lists, events accepted but not stored) exits non-zero and fails here, instead of
failing the next time someone runs it at full size. Times printed at these sizes mean
nothing, and nothing here reads them.

Each run costs 5-25 s (a fresh interpreter importing memberlens, servers for the two API
benchmarks), about a minute for all of them on 2 cores: marked ``slow``, so ``make
test`` runs them and ``make test-fast`` does not.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO, requires_datasets

BENCH = REPO / "bench"
# Every runnable script (features_sql.py is features.py's peer, a module).
SCRIPTS = sorted(p.name for p in BENCH.glob("*.py") if '__name__ == "__main__"' in p.read_text())
NEEDS_DATASETS = {"clv.py"}  # CDNOW_master from shared/datasets
HELD = "comparison held:"


def test_every_script_is_found() -> None:
    assert {"features.py", "clv.py", "recommend_api.py"} <= set(SCRIPTS)
    assert "features_sql.py" not in SCRIPTS


@pytest.mark.slow
@pytest.mark.parametrize(
    "script",
    [pytest.param(s, marks=requires_datasets) if s in NEEDS_DATASETS else s for s in SCRIPTS],
)
def test_the_benchmark_runs_and_its_comparison_holds(script: str, tmp_path: Path) -> None:
    # Temporary files and workspaces (every script makes its own) land in tmp_path; HOME
    # and XDG_CONFIG_HOME are already the test's own; servers take free ports.
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, str(BENCH / script), "--smoke"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = f"--- stdout\n{done.stdout[-3000:]}\n--- stderr\n{done.stderr[-3000:]}"
    assert done.returncode == 0, f"bench/{script} --smoke exited {done.returncode}\n{output}"
    held = [line for line in done.stdout.splitlines() if line.startswith(HELD)]
    assert held, f"bench/{script} --smoke did not say '{HELD} …'\n{output}"
