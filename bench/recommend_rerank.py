"""Benchmark: the refresh's re-ranking (MMR with a novelty share) and candidate cut.

Times ``mmr_order`` (λ 0.7, novelty share 0.2: the shipped ``home`` scenario) over
``--lists`` synthetic candidate lists of ``--candidates`` items, in blocks of 1024 lists
as the refresh's recommendations step runs it, and separately ``candidates`` (the best
40 eligible items of each member's scores) over ``--users`` members × ``--items-scored``
items, also in blocks of 1024. Only the calls are timed; making the seeded synthetic
blocks is not.

Limit, per member scenario, on 2 cores: re-rank 1,000,000 lists in ≤ 30 s, and cut
1,000,000 members' candidates from 2,000 scored items in ≤ 30 s. Why: a refresh shapes
every member scenario (the shipped recommend.toml has two that re-rank, ``home`` and
``email``), and the whole shaping of both (2 × (30 + 30) s = 2 min) should stay within
about the time of the refresh's slowest step today, member features over the same
1,000,000 members (77 s, README), plus model scoring on top.

Data: 20,000 items in 20 categories (2% without one), 10% of items novel (long tail),
popularity-skewed picks, scores best first; 5% of lists shorter than ``--candidates``
(padded with -1, as the refresh's are). Scores for ``candidates``: 30% zeros (items a
model cannot score), 5% of items out of stock, 3 bought items blocked per member.

    python bench/recommend_rerank.py [--lists 1000000] [--candidates 40]
        [--users 1000000] [--items-scored 2000] [--json] [--smoke]

Checked on the first block of each, or the script exits 1: ``mmr_order`` keeps every
list's items (it only re-orders them), and ``candidates`` gives the same items as a
full sort of every row. ``--smoke`` runs it all on 2,048 lists and members in seconds
(the test suite does, tests/test_bench_smoke.py); its times mean nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import sparse

from memberlens.recommend._rerank import candidates, mmr_order

BLOCK = 1024  # the refresh's block of users (recommend/_lists.py)
MMR_LAMBDA, NOVELTY_SHARE = 0.7, 0.2
LIMIT_MMR_S = 30.0  # per 1,000,000 lists
LIMIT_CANDIDATES_S = 30.0  # per 1,000,000 members × 2,000 items
CATEGORIES = 20
SMOKE = {"lists": 2_048, "users": 2_048, "items": 2_000, "items_scored": 200}

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]


def _catalogue(n: int, rng: np.random.Generator) -> tuple[Ints, npt.NDArray[np.bool_], Floats]:
    category = rng.integers(0, CATEGORIES, n).astype(np.int64)
    category[rng.random(n) < 0.02] = -1
    novel = rng.random(n) < 0.10
    weight = 1.0 / (np.arange(n) + 10.0) ** 0.8
    return category, novel, weight / weight.sum()


def _lists_block(
    rows: int, width: int, weight: Floats, rng: np.random.Generator
) -> tuple[Ints, Floats]:
    """Candidate lists best first; one in twenty shorter (padded with -1, score 0)."""
    items = rng.choice(len(weight), size=(rows, width), p=weight).astype(np.int64)
    scores = -np.sort(-rng.gamma(2.0, 1.0, size=(rows, width)), axis=1)
    short = np.flatnonzero(rng.random(rows) < 0.05)
    cut = rng.integers(0, width, len(short))
    pad = np.arange(width)[None, :] >= cut[:, None]
    items[short] = np.where(pad, -1, items[short])
    scores[short] = np.where(pad, 0.0, scores[short])
    return items, scores


def time_mmr(args: argparse.Namespace) -> dict[str, Any]:
    rng = np.random.default_rng(args.seed)
    category, novel, weight = _catalogue(args.items, rng)
    spent = 0.0
    for start in range(0, args.lists, BLOCK):
        items, scores = _lists_block(min(BLOCK, args.lists - start), args.candidates, weight, rng)
        began = time.perf_counter()
        order = mmr_order(
            items,
            scores,
            category=category,
            novel=novel,
            mmr_lambda=MMR_LAMBDA,
            novelty_share=NOVELTY_SHARE,
        )
        spent += time.perf_counter() - began
        if start == 0:  # a re-ordering: the same items in every row
            same = np.sort(np.where(items < 0, -1, items), axis=1) == np.sort(order, axis=1)
            if not same.all():
                raise SystemExit("mmr_order changed a list's items")
    scaled = spent * 1_000_000 / args.lists
    return {
        "lists": args.lists,
        "candidates": args.candidates,
        "seconds": round(spent, 2),
        "lists_per_second": round(args.lists / spent),
        "seconds_per_million": round(scaled, 2),
        "limit_seconds_per_million": LIMIT_MMR_S,
        "ratio_to_limit": round(scaled / LIMIT_MMR_S, 2),
    }


def _scores_block(
    rows: int, width: int, rng: np.random.Generator
) -> tuple[Floats, sparse.csr_matrix]:
    scores = rng.gamma(1.5, 1.0, size=(rows, width))
    scores[rng.random((rows, width)) < 0.30] = 0.0
    bought = rng.integers(0, width, size=(rows, 3))
    blocked = sparse.csr_matrix(
        (np.ones(bought.size), (np.repeat(np.arange(rows), 3), bought.ravel())),
        shape=(rows, width),
    )
    blocked.sum_duplicates()
    return scores, blocked


def _sorted_candidates(
    scores: Floats, n: int, allowed: npt.NDArray[np.bool_], blocked: sparse.csr_matrix
) -> Ints:
    """The same cut by sorting every row whole (best first, ties to the smaller item):
    the reference ``candidates`` must equal."""
    usable = np.where(allowed[None, :] & (blocked.toarray() == 0), scores, 0.0)
    out = np.full((len(scores), n), -1, dtype=np.int64)
    for row, values in enumerate(usable):
        kept = np.flatnonzero(values > 0)
        best = kept[np.lexsort((kept, -values[kept]))][:n]
        out[row, : len(best)] = best
    return out


def time_candidates(args: argparse.Namespace) -> dict[str, Any]:
    rng = np.random.default_rng(args.seed + 1)
    allowed = rng.random(args.items_scored) >= 0.05
    spent = 0.0
    for start in range(0, args.users, BLOCK):
        scores, blocked = _scores_block(min(BLOCK, args.users - start), args.items_scored, rng)
        began = time.perf_counter()
        items, _ = candidates(scores, args.candidates, allowed=allowed, blocked=blocked)
        spent += time.perf_counter() - began
        if start == 0 and not np.array_equal(
            items, _sorted_candidates(scores, args.candidates, allowed, blocked)
        ):
            raise SystemExit("candidates differ from a full sort's")
    scaled = spent * 1_000_000 / args.users * 2_000 / args.items_scored
    return {
        "users": args.users,
        "items_scored": args.items_scored,
        "seconds": round(spent, 2),
        "users_per_second": round(args.users / spent),
        "seconds_per_million_x_2000": round(scaled, 2),
        "limit_seconds": LIMIT_CANDIDATES_S,
        "ratio_to_limit": round(scaled / LIMIT_CANDIDATES_S, 2),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lists", type=int, default=1_000_000)
    parser.add_argument("--candidates", type=int, default=40)
    parser.add_argument("--items", type=int, default=20_000, help="catalogue size for MMR")
    parser.add_argument("--users", type=int, default=1_000_000)
    parser.add_argument("--items-scored", type=int, default=2_000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--smoke", action="store_true", help=f"tiny sizes {SMOKE}, seconds")
    args = parser.parse_args(argv)
    if args.smoke:
        vars(args).update(SMOKE)
    mmr_load = [round(x, 2) for x in os.getloadavg()]
    mmr = time_mmr(args)
    cut_load = [round(x, 2) for x in os.getloadavg()]
    cut = time_candidates(args)
    report: dict[str, Any] = {
        "mmr_order": {**mmr, "load_average_before": mmr_load},
        "candidates": {**cut, "load_average_before": cut_load},
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "cores": os.cpu_count(),
        "machine": platform.processor() or platform.machine(),
        "python": platform.python_version(),
        "numpy": np.__version__,
    }
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(
        f"machine: {report['machine']}, {report['cores']} cores, Python {report['python']}, "
        f"NumPy {report['numpy']}"
    )
    print(
        f"mmr_order (λ {MMR_LAMBDA}, novelty share {NOVELTY_SHARE}): {mmr['lists']:,} lists "
        f"of {mmr['candidates']} in blocks of {BLOCK}: {mmr['seconds']} s, "
        f"{mmr['lists_per_second']:,} lists/s (limit ≤ {LIMIT_MMR_S:g} s per 1,000,000: "
        f"ratio {mmr['ratio_to_limit']}); load average before {mmr_load}"
    )
    print(
        f"candidates: {cut['users']:,} members × {cut['items_scored']:,} items, best "
        f"{args.candidates}, in blocks of {BLOCK}: {cut['seconds']} s, "
        f"{cut['users_per_second']:,} members/s (limit ≤ {LIMIT_CANDIDATES_S:g} s per "
        f"1,000,000 × 2,000: ratio {cut['ratio_to_limit']}); load average before "
        f"{cut_load}, after {report['load_average_after']}"
    )
    print(
        "comparison held: mmr_order kept every list's items, and candidates equal a full "
        "sort's (first block of each)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
