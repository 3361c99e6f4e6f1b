"""Benchmark: the features step against hand-written DuckDB SQL computing the same features.

A member base is generated with DuckDB SQL (seeded through hashes, so every run makes
the same data): by default 1,000,000 members, 10,000,000 order lines (5,000,000
orders) and 20,000,000 events, plus feedback with what the text step reads in it
(``feedback_insights``) and touches, straight into a workspace warehouse with
``[warehouse] memory_limit = 8GB``. Then, in one run:

1. the full features step (``profile.compute_member_features``) against one
   hand-written DuckDB SQL statement with the same formulas (its result must have
   every feature's column and equal the step's, column by column) - target ratio <= 1.5;
2. RFM alone (recency, frequency, monetary per member over a 10M-row Parquet of
   order lines): memberlens's Ibis expression on DuckDB beside hand-written DuckDB
   SQL, polars (the ``bench`` extra) and pandas on the same Parquet (all with the same
   members, orders and amounts).

    python bench/features.py [--members 1000000] [--runs 1] [--keep DIR] [--smoke]

``--smoke`` runs the same steps and checks on 2,000 members in seconds (the test suite
does, tests/test_bench_smoke.py); its times mean nothing.

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
SMOKE = {"members": 2_000, "runs": 1}
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
        # What the refresh's text step writes before features (the columns they read):
        # three feedback in four have text, read as a sentiment in [-1, 1]; a complaint
        # is feedback of kind complaint or text read below -0.7 ([text] complaint_below).
        """CREATE TABLE feedback_insights AS SELECT feedback_id, sentiment,
            kind = 'complaint' OR coalesce(sentiment < -0.7, false) AS complaint
            FROM (SELECT feedback_id, kind, CASE WHEN hash(feedback_id, 22) % 4 > 0
                    THEN (((hash(feedback_id, 23) % 2001)::BIGINT - 1000) / 1000)::DOUBLE
                  END AS sentiment FROM feedback)""",
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
    """The peer must compute the same features and numbers, or the comparison means nothing."""
    names = [f.name for f in profile.feature_defs()]
    missing = [n for n in names if n not in ws.warehouse.table("hand").columns]
    if missing:
        sys.exit(
            f"the hand-written SQL lacks {len(missing)} of the {len(names)} features: "
            f"{', '.join(missing)} (defined in memberlens.profile since; add them to "
            "bench/features_sql.py)"
        )
    floats = {f.name for f in profile.feature_defs() if f.type.value == "float"}

    def value(side: str, name: str) -> str:
        return f"round({side}.{name}, 6)" if name in floats else f"{side}.{name}"

    differ = ", ".join(f"count(*) FILTER ({value('a', n)} IS DISTINCT FROM {value('h', n)})"
                       for n in names)  # fmt: skip
    row = ws.warehouse.fetch_all(
        f"SELECT count(a.member_id), count(h.member_id), {differ} "
        "FROM member_features a FULL JOIN hand h USING (member_id)"
    )[0]
    ours, hand = row[0], row[1]
    wrong = {name: n for name, n in zip(names, row[2:], strict=True) if n}
    if wrong or not ours == hand == members:
        sys.exit(
            f"the hand-written SQL disagrees: {hand:,} members against {ours:,} (of "
            f"{members:,}); members whose value differs, per feature: {wrong}"
        )


def rfm(ws: Workspace, folder: Path, runs: int) -> dict[str, float]:
    """RFM over the same Parquet: memberlens (Ibis on DuckDB), DuckDB SQL, polars, pandas;
    seconds per implementation (NaN without polars), after checking that all agree."""
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
    timings = {
        "memberlens (Ibis on DuckDB)": timed(lambda: con.to_pyarrow(expr), runs),
        "DuckDB SQL": timed(
            lambda: con.con.execute(RFM_SQL.format(path=parquet)).to_arrow_table(), runs
        ),
        "polars": _polars(parquet, cutoff, runs),
        "pandas": _pandas(parquet, cutoff, runs),
    }
    con.disconnect()
    totals = {name: _rfm_totals(frame) for name, (_, frame) in timings.items() if frame is not None}
    if len(set(totals.values())) != 1:
        sys.exit(f"the RFM implementations disagree (members, orders, amount): {totals}")
    return {name: seconds for name, (seconds, _) in timings.items()}


def _rfm_totals(frame: Any) -> tuple[int, int, float]:
    """Members, order lines and their amount: what every implementation must agree on."""
    frame = frame if hasattr(frame, "iloc") else frame.to_pandas()
    return len(frame), int(frame["frequency"].sum()), round(float(frame["monetary"].sum()), 2)


def _polars(parquet: Path, cutoff: datetime, runs: int) -> tuple[float, Any]:
    try:
        import polars as pl
    except ImportError:
        return float("nan"), None  # pip install -c constraints.txt ".[bench]"

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

    return timed(run, runs)


def _pandas(parquet: Path, cutoff: datetime, runs: int) -> tuple[float, Any]:
    import pandas as pd

    def run() -> Any:
        df = pd.read_parquet(parquet)
        out = df.groupby("member_id").agg(
            last=("ordered_at", "max"), frequency=("amount", "size"), monetary=("amount", "sum")
        )
        out["recency_days"] = (pd.Timestamp(cutoff) - out["last"]).dt.days
        return out

    return timed(run, runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=1, help="Best of this many runs.")
    parser.add_argument("--keep", type=Path, help="Build the workspace here and keep it.")
    parser.add_argument("--smoke", action="store_true", help=f"tiny sizes {SMOKE}, seconds")
    args = parser.parse_args()
    if args.smoke:
        vars(args).update(SMOKE)
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
        rfm_seconds = rfm(ws, folder, args.runs)
        for name, seconds in rfm_seconds.items():
            print(f"RFM over {sizes['order_lines']:,} lines, {name}: {seconds:.2f} s")
        agreed = [name for name, seconds in rfm_seconds.items() if seconds == seconds]  # not NaN
        print(
            f"comparison held: the hand-written SQL gave all {len(profile.feature_defs())} "
            f"features, equal for {sizes['members']:,} members; RFM equal in "
            f"{', '.join(agreed)}"
        )
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}"
    )


if __name__ == "__main__":
    main()
