"""Benchmark: every member's top-20 from a 64-factor model, beside implicit's recommend.

Seeded random float32 factors for 1,000,000 members and 50,000 items, and a seen
matrix of 20 random items per member, are scored by ``factor_top_k`` (BLAS products
chunk by chunk, exact top-k with the seen items left out). Limit: 60 s on the project
machine (2 cores). The peer is implicit 0.7.3's own
``AlternatingLeastSquares.recommend(userids, user_items, N=20,
filter_already_liked_items=True)`` on a model holding the same factors, with its
recommended setup (one BLAS thread, its own threads on every core). It runs on the
first ``--peer-users`` members and its time is extrapolated linearly to all of them
(``--peer-users 0`` runs it on all). CPU times are printed beside wall times: on a
shared machine they show what contention did to the wall times. Both give the lists
of 1,000 sampled members, which are compared: identical lists, and the largest score
difference (float32 rounding may swap two near-equal items).

    python bench/recommend_batch.py [--users 1000000] [--items 50000] [--factors 64]
        [--k 20] [--peer-users 100000] [--seed 42] [--json] [--smoke]

The comparison must hold, or the script exits 1: the sampled members' lists identical
for at least 99% of them and every score within 1e-4 of implicit's, position by
position. ``--smoke`` runs it all on 2,000 members × 500 items with 16 factors in
seconds (the test suite does, tests/test_bench_smoke.py); its times mean nothing.

The BLAS kernel OpenBLAS uses (chosen when it loads, or by ``OPENBLAS_CORETYPE``)
decides most of both times; the report names it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import time
from typing import Any

import numpy as np
from scipy import sparse
from threadpoolctl import threadpool_info, threadpool_limits

from memberlens.recommend._batch import factor_top_k

LIMIT_SECONDS = 60.0
SAMPLE = 1000
# float32 rounding may swap two near-equal items, rarely; a score is never further off.
MIN_IDENTICAL_SHARE, MAX_SCORE_DIFFERENCE = 0.99, 1e-4
SMOKE = {"users": 2_000, "items": 500, "factors": 16, "peer_users": 0}


def make_data(
    users: int, items: int, factors: int, seen_per_user: int, seed: int
) -> tuple[np.ndarray, np.ndarray, sparse.csr_matrix]:
    """Seeded factors (float32, standard normal / sqrt(factors)) and the seen matrix."""
    rng = np.random.default_rng(seed)
    scale = np.float32(1 / np.sqrt(factors))
    user_factors = rng.standard_normal((users, factors), dtype=np.float32) * scale
    item_factors = rng.standard_normal((items, factors), dtype=np.float32) * scale
    indices = rng.integers(0, items, users * seen_per_user, dtype=np.int32)
    indptr = np.arange(0, users * seen_per_user + 1, seen_per_user, dtype=np.int64)
    data = np.ones(len(indices), dtype=np.float32)
    seen = sparse.csr_matrix((data, indices, indptr), shape=(users, items))
    seen.sum_duplicates()  # a few members drew an item twice
    return user_factors, item_factors, seen


def implicit_model(user_factors: np.ndarray, item_factors: np.ndarray) -> Any:
    """implicit's CPU ALS holding the given factors (nothing is fitted)."""
    from implicit.cpu.als import AlternatingLeastSquares

    with threadpool_limits(limits=1, user_api="blas"):
        model = AlternatingLeastSquares(factors=user_factors.shape[1], num_threads=0)
    model.user_factors, model.item_factors = user_factors, item_factors
    return model


def implicit_recommend(
    model: Any, users: np.ndarray, seen: sparse.csr_matrix, k: int
) -> tuple[np.ndarray, np.ndarray]:
    with threadpool_limits(limits=1, user_api="blas"):
        ids, scores = model.recommend(users, seen[users], N=k, filter_already_liked_items=True)
    return np.asarray(ids), np.asarray(scores)


def peak_rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e9  # KiB on Linux


def machine() -> dict[str, Any]:
    blas = [api for api in threadpool_info() if api["user_api"] == "blas"]
    return {
        "cpu": platform.processor() or platform.machine(),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "blas_kernels": sorted({str(api.get("architecture")) for api in blas}),
        "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE", "(auto)"),
        "load_average_1min": round(os.getloadavg()[0], 2),
    }


def run(args: argparse.Namespace) -> dict[str, Any]:
    began = time.perf_counter()
    user_factors, item_factors, seen = make_data(
        args.users, args.items, args.factors, args.seen, args.seed
    )
    setup_s = time.perf_counter() - began

    began, cpu = time.perf_counter(), time.process_time()
    ours_items, ours_scores = factor_top_k(user_factors, item_factors, args.k, exclude=seen)
    ours_s, ours_cpu = time.perf_counter() - began, time.process_time() - cpu
    rss_ours = peak_rss_gb()

    model = implicit_model(user_factors, item_factors)
    peer_n = args.users if args.peer_users <= 0 else min(args.peer_users, args.users)
    began, cpu = time.perf_counter(), time.process_time()
    implicit_recommend(model, np.arange(peer_n), seen, args.k)
    peer_measured_s, peer_cpu = time.perf_counter() - began, time.process_time() - cpu
    peer_s = peer_measured_s * args.users / peer_n

    sample = np.sort(np.random.default_rng(args.seed + 1).choice(args.users, SAMPLE, False))
    their_items, their_scores = implicit_recommend(model, sample, seen, args.k)
    same = (their_items == ours_items[sample]).all(axis=1)
    return {
        "benchmark": "recommend_batch",
        "users": args.users,
        "items": args.items,
        "factors": args.factors,
        "k": args.k,
        "seen_per_user": args.seen,
        "setup_s": round(setup_s, 2),
        "ours_s": round(ours_s, 2),
        "ours_cpu_s": round(ours_cpu, 2),
        "limit_s": LIMIT_SECONDS,
        "ours_share_of_limit": round(ours_s / LIMIT_SECONDS, 2),
        "peer": "implicit.cpu.als.AlternatingLeastSquares.recommend",
        "peer_users_timed": peer_n,
        "peer_measured_s": round(peer_measured_s, 2),
        "peer_s": round(peer_s, 2),
        "peer_cpu_s": round(peer_cpu * args.users / peer_n, 2),
        "peer_extrapolated": peer_n < args.users,
        "speedup_vs_peer": round(peer_s / ours_s, 2),
        "sample_users": SAMPLE,
        "sample_identical_share": float(same.mean()),
        "sample_max_score_difference": float(np.abs(their_scores - ours_scores[sample]).max()),
        "peak_rss_after_ours_gb": round(rss_ours, 2),
        "peak_rss_gb": round(peak_rss_gb(), 2),
        "machine": machine(),
    }


def print_report(r: dict[str, Any]) -> None:
    m = r["machine"]
    verdict = "met" if r["ours_s"] <= r["limit_s"] else "NOT met"
    if r["peer_extrapolated"]:
        how = f"extrapolated from {r['peer_users_timed']:,} members ({r['peer_measured_s']:.1f} s)"
    else:
        how = "measured on all"
    lines = [
        f"{r['users']:,} members × {r['items']:,} items, {r['factors']} factors, top-{r['k']}, "
        f"{r['seen_per_user']} seen items per member left out (data made in {r['setup_s']:.1f} s)",
        f"memberlens factor_top_k: {r['ours_s']:.1f} s (CPU {r['ours_cpu_s']:.1f} s); "
        f"limit {r['limit_s']:.0f} s -> {r['ours_share_of_limit']:.2f} of it ({verdict})",
        f"implicit recommend: {r['peer_s']:.1f} s (CPU {r['peer_cpu_s']:.1f} s), {how} "
        f"-> memberlens {r['speedup_vs_peer']:.1f}x faster",
        f"same lists as implicit for {r['sample_identical_share']:.1%} of "
        f"{r['sample_users']:,} sampled members; "
        f"largest score difference {r['sample_max_score_difference']:.1e}",
        f"peak RSS: {r['peak_rss_after_ours_gb']:.2f} GB after ours (inputs included), "
        f"{r['peak_rss_gb']:.2f} GB at the end",
        f"machine: {m['cpu']}, {m['cores']} cores, Python {m['python']}, NumPy {m['numpy']}, "
        f"BLAS kernels {', '.join(m['blas_kernels'])} "
        f"(OPENBLAS_CORETYPE {m['openblas_coretype']}), "
        f"load average {m['load_average_1min']} at the end",
    ]
    print("\n".join(lines))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=1_000_000)
    parser.add_argument("--items", type=int, default=50_000)
    parser.add_argument("--factors", type=int, default=64)
    parser.add_argument("--k", type=int, default=20)
    parser.add_argument("--seen", type=int, default=20, help="seen items per member")
    parser.add_argument(
        "--peer-users", type=int, default=100_000, help="members implicit scores (0: all)"
    )
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--smoke", action="store_true", help=f"tiny sizes {SMOKE}, seconds")
    args = parser.parse_args(argv)
    if args.smoke:
        vars(args).update(SMOKE)
    if args.users < SAMPLE:
        parser.error(f"--users must be at least {SAMPLE} (the compared sample)")
    report = run(args)
    held = (
        report["sample_identical_share"] >= MIN_IDENTICAL_SHARE
        and report["sample_max_score_difference"] <= MAX_SCORE_DIFFERENCE
    )
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print_report(report)
        verdict = "comparison held" if held else "comparison FAILED"
        print(
            f"{verdict}: lists identical for {report['sample_identical_share']:.1%} of the "
            f"sample (at least {MIN_IDENTICAL_SHARE:.0%}), scores within "
            f"{report['sample_max_score_difference']:.1e} of implicit's (at most "
            f"{MAX_SCORE_DIFFERENCE:g})"
        )
    return 0 if held else 1


if __name__ == "__main__":
    sys.exit(main())
