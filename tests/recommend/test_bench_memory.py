"""bench/recommend_memory.py at its smoke size: the tour's four data sets cut to their
first lines, ingested, refreshed and evaluated in child processes, each child's wall
time and peak memory reported beside the limits."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import REPO, requires_datasets

pytestmark = [requires_datasets, pytest.mark.slow]


def test_the_smoke_size_reports_each_childs_time_and_peak_beside_the_limits() -> None:
    done = subprocess.run(
        [sys.executable, str(REPO / "bench" / "recommend_memory.py"), "--smoke", "--json"],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout)
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
