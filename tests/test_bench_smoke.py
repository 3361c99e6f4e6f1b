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
test`` runs them and ``make test-fast`` does not. Each script runs once for the module:
bench/recommend_memory.py's run also serves the test of its JSON report.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
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


# Scripts whose JSON report a test below reads (``--report``): the same run serves both.
REPORTS = {"recommend_memory.py"}


@pytest.fixture(scope="module")
def smoke(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], tuple[str, Path]]:
    """``smoke(script)``: run ``bench/script --smoke`` once for the module; its output
    and the folder it ran in (its report, if any, is ``report.json`` there)."""
    done: dict[str, tuple[str, Path]] = {}

    def run(script: str) -> tuple[str, Path]:
        if script not in done:
            folder = tmp_path_factory.mktemp(script.removesuffix(".py"))
            report = ["--report", str(folder / "report.json")] if script in REPORTS else []
            # Temporary files and workspaces (every script makes its own) land in the
            # folder; HOME and XDG_CONFIG_HOME are the calling test's own; servers take free
            # ports.
            finished = subprocess.run(
                [sys.executable, str(BENCH / script), "--smoke", *report],
                cwd=folder,
                env={**os.environ, "TMPDIR": str(folder)},
                capture_output=True,
                text=True,
                timeout=300,
            )
            output = f"--- stdout\n{finished.stdout[-3000:]}\n--- stderr\n{finished.stderr[-3000:]}"
            assert finished.returncode == 0, (
                f"bench/{script} --smoke exited {finished.returncode}\n{output}"
            )
            done[script] = (finished.stdout, folder)
        return done[script]

    return run


@pytest.mark.slow
@pytest.mark.parametrize(
    "script",
    [pytest.param(s, marks=requires_datasets) if s in NEEDS_DATASETS | REPORTS else s
     for s in SCRIPTS],
)  # fmt: skip
def test_the_benchmark_runs_and_its_comparison_holds(
    script: str, smoke: Callable[[str], tuple[str, Path]]
) -> None:
    stdout, _ = smoke(script)
    held = [line for line in stdout.splitlines() if line.startswith(HELD)]
    assert held, f"bench/{script} --smoke did not say '{HELD} …'\n{stdout[-3000:]}"


@requires_datasets
@pytest.mark.slow
def test_recommend_memory_reports_each_childs_time_and_peak_beside_the_limits(
    smoke: Callable[[str], tuple[str, Path]],
) -> None:
    # bench/recommend_memory.py at its smoke size (the tour's four data sets cut to
    # their first lines, ingested, refreshed and evaluated in child processes): the
    # same run as its comparison's test above, read from its JSON report.
    _, folder = smoke("recommend_memory.py")
    report = json.loads((folder / "report.json").read_text(encoding="utf-8"))
    assert report["smoke"] and report["built_s"] > 0
    assert report["members_with_interactions"] > 100 and report["items"] > 100
    for child in ("refresh", "evaluate"):
        # a child's own peak: a Python process with the package loaded, well below the limit
        assert 0.05 < report[f"{child}_peak_gb"] < report["memory_limit_gb"]
        assert report[f"{child}_share_of_memory_limit"] == pytest.approx(
            report[f"{child}_peak_gb"] / 4.0, abs=0.01
        )
    assert report["refresh_limit_s"] == 180
    assert report["refresh_steps_s"]["recommendations"] > 0
    assert report["evaluate_default"] and report["evaluate_skipped"] == []
