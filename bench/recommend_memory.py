"""Benchmark: `recommend evaluate` and `refresh` on the README tour's workspace, their
wall time and peak memory beside the limits.

The tour's workspace holds the four shared data sets (../shared/datasets): CDNOW
orders, the Groceries baskets, the Taobao behaviour sample and the waimai reviews —
28,283 members with interactions × 55,536 items. It is built once (``memberlens init``
and the four ``memberlens ingest ... --preset``) at the path given, or reused from it
when it is there; each run works on a fresh copy, so the refresh is always the
workspace's first (it chooses ``auto`` on a validation split of its own, as the tour's
does). Then, as child processes:

1. ``memberlens refresh`` — limits: 4 GB peak, 3 minutes (issue 17);
2. ``memberlens recommend evaluate --no-register`` — limit: 4 GB peak.

Each child's peak is its own resident set at its largest (``os.wait4``'s rusage of
that child). ``--smoke`` runs the same on the first lines of each file (a few seconds
of work; the figures then say nothing about the limits).

    python bench/recommend_memory.py [WORKSPACE] [--smoke] [--keep] [--json] [--report FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

DATASETS = Path(__file__).resolve().parents[2] / "shared" / "datasets"
MEMORY_LIMIT_GB = 4.0
REFRESH_LIMIT_S = 180.0
# (kind, file, preset, lines kept by --smoke, header lines)
SOURCES = (
    ("orders", "cdnow/CDNOW_master.txt", "cdnow", 500, 1),
    ("order_items", "groceries/Groceries_dataset.csv", "groceries", 600, 1),
    ("events", "taobao/UserBehavior_head.csv", "taobao", 1500, 0),
    ("feedback", "waimai/waimai_10k.csv", "waimai", 100, 1),
)
CLI = [sys.executable, "-m", "memberlens"]


def child(args: list[str]) -> dict[str, Any]:
    """Run ``memberlens ARGS``; its wall time, own peak resident set and output."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        began = time.perf_counter()
        process = subprocess.Popen([*CLI, *args], stdout=out, stderr=err, text=True)
        # wait4, not wait: the rusage of this child alone (its peak resident set)
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - began
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if process.returncode != 0:
        raise SystemExit(
            f"memberlens {' '.join(args)} failed ({process.returncode}):\n{stderr[-4000:]}"
        )
    return {"seconds": seconds, "peak_gb": usage.ru_maxrss * 1024 / 1e9, "stdout": stdout}


def sources(smoke: bool, into: Path) -> list[tuple[str, Path, str]]:
    """The files to ingest: the data sets, or their first lines for --smoke."""
    if not DATASETS.is_dir():
        raise SystemExit(f"{DATASETS} not found: the shared data sets sit beside the repository")
    found = []
    for kind, name, preset, lines, header in SOURCES:
        path = DATASETS / name
        if smoke:
            head = into / Path(name).name
            with path.open(encoding="utf-8", errors="replace") as text:
                kept = [line for _, line in zip(range(lines + header), text, strict=False)]
            head.write_text("".join(kept), encoding="utf-8")
            path = head
        found.append((kind, path, preset))
    return found


def build(workspace: Path, smoke: bool) -> float:
    """``memberlens init`` and the four ingests; the seconds they took."""
    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="ml-bench-src-") as folder:
        child(["init", str(workspace)])
        for kind, path, preset in sources(smoke, Path(folder)):
            child(["ingest", kind, str(path), "--preset", preset, "-w", str(workspace), "-q"])
    return time.perf_counter() - began


def run(args: argparse.Namespace) -> dict[str, Any]:
    scratch = Path(tempfile.mkdtemp(prefix="ml-bench-recs-"))
    given = Path(args.workspace).resolve() if args.workspace else scratch / "tour"
    built = None
    if not (given / "memberlens.toml").is_file():
        built = build(given, args.smoke)
    work = scratch / "run"
    shutil.copytree(given, work)
    try:
        load_before = os.getloadavg()[0]
        refresh = child(["refresh", "-w", str(work), "--json", "-q"])
        evaluate = child(
            ["recommend", "evaluate", "-w", str(work), "--no-register", "--json", "-q"]
        )
        load_after = os.getloadavg()[0]
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
            if not args.workspace:
                shutil.rmtree(scratch, ignore_errors=True)
    steps = json.loads(refresh["stdout"]).get("steps", {})
    found = json.loads(evaluate["stdout"])
    recs = steps.get("recommendations", {})
    return {
        "benchmark": "recommend_memory",
        "smoke": args.smoke,
        "workspace": str(given),
        "built_s": None if built is None else round(built, 1),
        "members_with_interactions": recs.get("members_with_interactions"),
        "items": recs.get("items"),
        "refresh_s": round(refresh["seconds"], 1),
        "refresh_steps_s": {name: s.get("seconds") for name, s in steps.items()},
        "refresh_peak_gb": round(refresh["peak_gb"], 3),
        "refresh_limit_s": REFRESH_LIMIT_S,
        "refresh_share_of_time_limit": round(refresh["seconds"] / REFRESH_LIMIT_S, 4),
        "evaluate_s": round(evaluate["seconds"], 1),
        "evaluate_peak_gb": round(evaluate["peak_gb"], 3),
        "evaluate_default": found.get("default"),
        "evaluate_skipped": sorted(found.get("skipped", {})),
        "memory_limit_gb": MEMORY_LIMIT_GB,
        "refresh_share_of_memory_limit": round(refresh["peak_gb"] / MEMORY_LIMIT_GB, 4),
        "evaluate_share_of_memory_limit": round(evaluate["peak_gb"] / MEMORY_LIMIT_GB, 4),
        "machine": {
            "cpu": platform.processor() or platform.machine(),
            "cores": os.cpu_count(),
            "python": platform.python_version(),
            "load_average_1min_before": round(load_before, 2),
            "load_average_1min_after": round(load_after, 2),
        },
    }


def _verdict(share: float) -> str:
    return "met" if share <= 1 else "NOT met"


def print_report(r: dict[str, Any]) -> None:
    m = r["machine"]
    time_share = r["refresh_share_of_time_limit"]
    size = "smoke slices" if r["smoke"] else "the four data sets"
    steps = ", ".join(
        f"{name} {seconds:.1f}" for name, seconds in r["refresh_steps_s"].items() if seconds
    )
    lines = [
        f"tour workspace ({size}): {r['members_with_interactions'] or 0:,} members with "
        f"interactions × {r['items'] or 0:,} items"
        + (f" (built in {r['built_s']:.0f} s)" if r["built_s"] is not None else ""),
        f"refresh: {r['refresh_s']:.1f} s; limit {r['refresh_limit_s']:.0f} s -> "
        f"{time_share:.2f} of it ({_verdict(time_share)})",
        f"  peak {r['refresh_peak_gb']:.3f} GB; limit {r['memory_limit_gb']:.0f} GB -> "
        f"{r['refresh_share_of_memory_limit']:.3f} of it "
        f"({_verdict(r['refresh_share_of_memory_limit'])})",
        f"  steps (s): {steps}",
        f"recommend evaluate: {r['evaluate_s']:.1f} s, peak {r['evaluate_peak_gb']:.2f} GB; "
        f"limit {r['memory_limit_gb']:.0f} GB -> {r['evaluate_share_of_memory_limit']:.2f} of "
        f"it ({_verdict(r['evaluate_share_of_memory_limit'])}); default "
        f"{r['evaluate_default']}, skipped: {', '.join(r['evaluate_skipped']) or 'none'}",
        f"machine: {m['cpu']}, {m['cores']} cores, Python {m['python']}, load average "
        f"{m['load_average_1min_before']} before, {m['load_average_1min_after']} after",
    ]
    print("\n".join(lines))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "workspace",
        nargs="?",
        help="the tour's workspace: reused when it is there, else built there "
        "(default: a temporary one)",
    )
    parser.add_argument("--smoke", action="store_true", help="the first lines of each file")
    parser.add_argument("--keep", action="store_true", help="keep the refreshed copy")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--report", type=Path, help="also write the report as JSON to this file")
    args = parser.parse_args(argv)
    report = run(args)
    if args.report:
        args.report.write_text(json.dumps(report, indent=2), encoding="utf-8")
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print_report(report)
    shares = {
        "refresh time": report["refresh_share_of_time_limit"],
        "refresh memory": report["refresh_share_of_memory_limit"],
        "evaluate memory": report["evaluate_share_of_memory_limit"],
    }
    over = [name for name, share in shares.items() if share > 1]
    if over or not report["evaluate_default"]:
        print(f"comparison NOT held: over the limit: {', '.join(over) or 'none'}; "
              f"evaluate chose {report['evaluate_default']!r}")  # fmt: skip
        return 1
    print("comparison held: " + ", ".join(f"{n} {s:.2f} of its limit" for n, s in shares.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
