"""Benchmark: the features step against hand-written DuckDB SQL computing the same features.

A member base is generated with DuckDB SQL (seeded through hashes, so every run makes
the same data): by default 1,000,000 members, 10,000,000 order lines (5,000,000
orders) and 20,000,000 events, plus feedback and touches, straight into a workspace
warehouse with ``[warehouse] memory_limit = 8GB``. Then, in one run:

1. the full features step (``profile.compute_member_features``) against one
   hand-written DuckDB SQL statement with the same formulas (its result is compared
   with the step's, column by column) - target ratio <= 1.5;
2. RFM alone (recency, frequency, monetary per member over a 10M-row Parquet of
   order lines): memberlens's Ibis expression on DuckDB beside hand-written DuckDB
   SQL, polars (the ``bench`` extra) and pandas on the same Parquet.

    python bench/features.py [--members 1000000] [--runs 1] [--keep DIR]

Everything is written under a temporary folder (never the repo).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import ibis
from features_sql import HAND_SQL, RFM_SQL  # bench/ is sys.path[0] when run as a script

from memberlens import profile
from memberlens.workspace import Workspace, init_workspace

TARGET_RATIO = 1.5
CUTOFF = datetime(2025, 1, 1, tzinfo=UTC)
RFM_PARQUET = "order_lines.parquet"


def generate(ws: Workspace, members: int) -> dict[str, int]:
    """The member base, by DuckDB SQL; hashes of row numbers stand in for a seeded RNG."""
    orders, lines, events = members * 5, members * 10, members * 20
    wh = ws.warehouse
    steps = [
        f"""INSERT INTO members BY NAME SELECT 'bench' AS source, 'k' || i AS source_member_key,
            TIMESTAMP '2021-01-01' + to_seconds(((hash(i, 1) % 1000)::BIGINT) * 86400) AS signup_at,
            ['Asia/Shanghai', 'Asia/Hong_Kong', 'America/New_York', NULL]
              [1 + (hash(i, 2) % 4)::BIGINT]
              AS timezone, TIMESTAMP '2020-01-01' AS _loaded_at, 2 AS _line
            FROM range({members}) t(i)""",
        f"""INSERT INTO member_map SELECT 'bench', 'k' || i, 'm_' || lpad(i::VARCHAR, 9, '0'),
            TIMESTAMP '2020-01-01', 'registered' FROM range({members}) t(i)""",
        """INSERT INTO products BY NAME SELECT 'p' || i AS product_id, 'bench' AS source,
            'c' || (i % 50) AS category FROM range(10000) t(i)""",
        f"""INSERT INTO orders BY NAME SELECT 'bench' AS source, 'o' || i AS order_id,
            'k' || ((hash(i, 3) % {members})::BIGINT) AS source_member_key,
            TIMESTAMP '2023-01-01' + to_seconds((hash(i, 4) % (760 * 86400))::BIGINT) AS ordered_at,
            ['store', 'app', 'web', 'mini_program'][1 + (hash(i, 5) % 4)::BIGINT] AS channel,
            (((hash(i, 6) % 20000)::BIGINT) / 100)::DECIMAL(18,2) AS total_amount,
            CASE WHEN i % 10 = 0 THEN 'C' || (i % 7) END AS coupon_code,
            CASE WHEN i % 100 < 3 THEN 'refunded' WHEN i % 100 = 3 THEN 'cancelled'
                 ELSE 'completed' END AS status
            FROM range({orders}) t(i)""",
        f"""INSERT INTO order_items BY NAME SELECT 'bench' AS source, 'o' || (i // 2) AS order_id,
            1 + i % 2 AS line_no, 'p' || ((hash(i, 7) % 10000)::BIGINT) AS product_id,
            1 AS quantity, (((hash(i, 8) % 10000)::BIGINT) / 100)::DECIMAL(18,2) AS amount
            FROM range({lines}) t(i)""",
        f"""INSERT INTO events BY NAME SELECT 'e' || i AS event_id, 'bench' AS source,
            'k' || ((hash(i, 9) % {members})::BIGINT) AS source_member_key,
            ['view', 'view', 'view', 'view', 'view', 'view', 'add_to_cart', 'add_to_cart',
             'favorite', 'purchase', 'login', 'search'][1 + (hash(i, 10) % 12)::BIGINT]
              AS event_type,
            TIMESTAMP '2023-01-01' + to_seconds((hash(i, 11) % (760 * 86400))::BIGINT)
              AS occurred_at,
            'p' || ((hash(i, 12) % 10000)::BIGINT) AS product_id FROM range({events}) t(i)""",
        f"""INSERT INTO feedback BY NAME SELECT 'f' || i AS feedback_id, 'bench' AS source,
            'k' || ((hash(i, 13) % {members})::BIGINT) AS source_member_key,
            ['review', 'review', 'complaint', 'survey'][1 + (hash(i, 14) % 4)::BIGINT] AS kind,
            TIMESTAMP '2023-01-01' + to_seconds((hash(i, 15) % (760 * 86400))::BIGINT)
              AS occurred_at,
            1 + (hash(i, 16) % 5)::BIGINT AS rating,
            CASE WHEN (hash(i, 14) % 4)::BIGINT = 3 THEN (hash(i, 17) % 11)::BIGINT END AS nps
            FROM range({members // 5}) t(i)""",
        f"""INSERT INTO touches BY NAME SELECT 't' || i AS touch_id, 'bench' AS source,
            'k' || ((hash(i, 18) % {members})::BIGINT) AS source_member_key, 'email' AS channel,
            TIMESTAMP '2023-01-01' + to_seconds((hash(i, 19) % (760 * 86400))::BIGINT) AS sent_at,
            CASE WHEN (hash(i, 20) % 3)::BIGINT = 0 THEN sent_at + INTERVAL 1 HOUR END AS opened_at,
            CASE WHEN (hash(i, 20) % 9)::BIGINT = 0 THEN sent_at + INTERVAL 2 HOUR END
              AS clicked_at,
            (hash(i, 21) % 50)::BIGINT = 0 AS bounced FROM range({members * 2}) t(i)""",
    ]
    for sql in steps:
        wh.execute(sql)
    wh.execute("CHECKPOINT")
    return {"members": members, "orders": orders, "order_lines": lines, "events": events}


def timed(fn: Callable[[], Any], runs: int) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(runs):
        started = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - started)
    return best, result


def full_step(ws: Workspace, runs: int) -> tuple[float, float]:
    def step() -> profile.FeatureSnapshot:
        return profile.compute_member_features(
            ws.warehouse, cutoff=CUTOFF, default_timezone="Asia/Shanghai"
        )

    ours, snap = timed(step, runs)
    sql = HAND_SQL.format(cutoff="TIMESTAMP '2025-01-01 00:00:00'", zone="'Asia/Shanghai'")
    peer, _ = timed(lambda: ws.warehouse.execute(f"CREATE OR REPLACE TABLE hand AS {sql}"), runs)
    _compare(ws, snap.members)
    return ours, peer


def _compare(ws: Workspace, members: int) -> None:
    """The peer must compute the same numbers, or the comparison means nothing."""
    names = [f.name for f in profile.feature_defs()]
    floats = {f.name for f in profile.feature_defs() if f.type.value == "float"}
    cols = ", ".join(f"round({n}, 6) AS {n}" if n in floats else n for n in names)
    diff = ws.warehouse.scalar(
        f"SELECT count(*) FROM (SELECT member_id, {cols} FROM member_features "
        f"EXCEPT SELECT member_id, {cols} FROM hand)"
    )
    hand = ws.warehouse.scalar("SELECT count(*) FROM hand")
    if diff or hand != members:
        sys.exit(f"the hand-written SQL disagrees: {diff} rows differ, {hand} vs {members} rows")


def rfm(ws: Workspace, folder: Path, runs: int) -> dict[str, float]:
    """RFM over the same Parquet: memberlens (Ibis on DuckDB), DuckDB SQL, polars, pandas."""
    parquet = folder / RFM_PARQUET
    ws.warehouse.execute(
        f"COPY (SELECT m.member_id, o.ordered_at, i.amount FROM order_items i "
        "JOIN orders o USING (source, order_id) JOIN member_map m USING (source, "
        f"source_member_key)) TO '{parquet}' (FORMAT parquet)"
    )
    cutoff = CUTOFF.replace(tzinfo=None)
    con = ibis.duckdb.connect(memory_limit="8GB")
    lines = con.read_parquet(str(parquet))
    expr = lines.group_by("member_id").aggregate(
        recency_days=((int(cutoff.timestamp()) - lines.ordered_at.max().epoch_seconds()) // 86400),
        frequency=lines.count(),
        monetary=lines.amount.sum(),
    )
    results = {
        "memberlens (Ibis on DuckDB)": timed(lambda: con.to_pyarrow(expr), runs)[0],
        "DuckDB SQL": timed(
            lambda: con.con.execute(RFM_SQL.format(path=parquet)).to_arrow_table(), runs
        )[0],
    }
    results["polars"] = _polars(parquet, cutoff, runs)
    results["pandas"] = _pandas(parquet, cutoff, runs)
    con.disconnect()
    return results


def _polars(parquet: Path, cutoff: datetime, runs: int) -> float:
    try:
        import polars as pl
    except ImportError:
        return float("nan")  # pip install -c constraints.txt ".[bench]"

    def run() -> Any:
        return (
            pl.scan_parquet(parquet)
            .group_by("member_id")
            .agg(
                recency_days=(pl.lit(cutoff) - pl.col("ordered_at").max()).dt.total_days(),
                frequency=pl.len(),
                monetary=pl.col("amount").sum(),
            )
            .collect()
        )

    return timed(run, runs)[0]


def _pandas(parquet: Path, cutoff: datetime, runs: int) -> float:
    import pandas as pd

    def run() -> Any:
        df = pd.read_parquet(parquet)
        out = df.groupby("member_id").agg(
            last=("ordered_at", "max"), frequency=("amount", "size"), monetary=("amount", "sum")
        )
        out["recency_days"] = (pd.Timestamp(cutoff) - out["last"]).dt.days
        return out

    return timed(run, runs)[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=1, help="Best of this many runs.")
    parser.add_argument("--keep", type=Path, help="Build the workspace here and keep it.")
    args = parser.parse_args()
    folder = Path(args.keep or tempfile.mkdtemp(prefix="ml-bench-features-"))
    os.environ.setdefault("XDG_CONFIG_HOME", str(folder / "config"))
    os.environ["MEMBERLENS_WAREHOUSE__MEMORY_LIMIT"] = "8GB"
    init_workspace(folder / "ws")
    with Workspace.open(folder / "ws") as ws:
        started = time.perf_counter()
        sizes = generate(ws, args.members)
        print(f"generated {sizes} in {time.perf_counter() - started:.1f} s", flush=True)
        ours, peer = full_step(ws, args.runs)
        print(f"features step (memberlens): {ours:.2f} s")
        print(f"hand-written DuckDB SQL:    {peer:.2f} s (same numbers, checked)")
        print(f"ratio: {ours / peer:.2f} (target <= {TARGET_RATIO})")
        for name, seconds in rfm(ws, folder, args.runs).items():
            print(f"RFM over {sizes['order_lines']:,} lines, {name}: {seconds:.2f} s")
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}"
    )


if __name__ == "__main__":
    main()
