"""Benchmark: how long `memberlens --help` takes to start, beside the bare interpreter
and beside the figure before the CLI's imports were trimmed.

Every command starts this way, and the test suite starts hundreds of them. Before
2026-12-07 importing the CLI imported scikit-learn, pandas, SciPy's optimisers and
alembic, which only some commands use: 3.66 s for `memberlens --help` on the 2-core
machine (idle). Target: at most 2.5 s there.

    python bench/cli_startup.py [--runs 5] [--smoke]

``--smoke`` runs once; it holds the CLI to importing none of those libraries
(tests/cli/test_startup.py holds the same), not to the time.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time

BEFORE_S = 3.66  # `memberlens --help`, 2026-12-07, before the imports were trimmed
TARGET_S = 2.5
HEAVY = ("sklearn", "pandas", "alembic", "scipy.optimize")


def _seconds(argv: list[str], runs: int) -> float:
    """The median wall time of ``runs`` runs of ``argv``."""
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        subprocess.run(argv, check=True, capture_output=True, timeout=120)
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs of each (the median counts)")
    parser.add_argument("--smoke", action="store_true", help="one run; the imports held")
    args = parser.parse_args()
    runs = 1 if args.smoke else args.runs
    bare = _seconds([sys.executable, "-c", "pass"], runs)
    cli = _seconds([sys.executable, "-m", "memberlens", "--help"], runs)
    probe = (
        "import json, sys, memberlens.cli; "
        f"print(json.dumps([m for m in {list(HEAVY)!r} if m in sys.modules]))"
    )
    loaded = json.loads(
        subprocess.run(
            [sys.executable, "-c", probe], check=True, capture_output=True, text=True
        ).stdout
    )
    print(f"python -c pass:      {bare:6.2f} s (median of {runs})")
    print(
        f"memberlens --help:   {cli:6.2f} s; before {BEFORE_S:.2f} s -> "
        f"{cli / BEFORE_S:.2f} of it; target {TARGET_S:.1f} s -> {cli / TARGET_S:.2f} of it"
    )
    print(f"heavy libraries imported by the CLI: {', '.join(loaded) or 'none'}")
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, load average {os.getloadavg()[0]:.2f}"
    )
    if loaded or (not args.smoke and cli > TARGET_S):
        raise SystemExit(
            f"comparison NOT held: {cli:.2f} s (target {TARGET_S} s); imported {loaded}"
        )
    held = "none of " + ", ".join(HEAVY) + " imported"
    if not args.smoke:
        held += f"; {cli:.2f} s, within the {TARGET_S} s target"
    print(f"comparison held: {held}")


if __name__ == "__main__":
    main()
