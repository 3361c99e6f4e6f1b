"""Benchmark: a segment rule with event conditions over 20,000,000 events.

The base of bench/features.py (1,000,000 members, 10,000,000 order lines, 20,000,000
events by default) is generated, its features computed, and the segments step's member
table materialised once, as a refresh does. Then the rule

    frequency >= 2 and viewed(within: 30d, at_least: 2) and not purchased(within: 30d)

is compiled and counted (what `segment preview` and every saved segment cost on top of
the member table), beside the same query written by hand in DuckDB SQL. Both counts
must agree. Target: the rule in <= 2 s.

    python bench/segments.py [--members 1000000] [--runs 3] [--smoke]

``--smoke`` runs the same on 2,000 members, once, in seconds (the test suite does,
tests/test_bench_smoke.py); its times mean nothing.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from pathlib import Path

import ibis
from features import CUTOFF, generate, timed  # bench/ is sys.path[0] when run as a script

from memberlens import profile, segment
from memberlens.rules import compile_rule
from memberlens.workspace import Workspace, init_workspace

TARGET_SECONDS = 2.0
SMOKE = {"members": 2_000, "runs": 1}
RULE = "frequency >= 2 and viewed(within: 30d, at_least: 2) and not purchased(within: 30d)"
HAND_SQL = """
WITH mm AS (SELECT source, source_member_key, member_id FROM member_map),
ev AS (
  SELECT mm.member_id FROM events e JOIN mm USING (source, source_member_key)
  WHERE e.event_type = 'view' AND e.occurred_at >= {cutoff} - INTERVAL 30 DAY
    AND e.occurred_at < {cutoff}
  UNION ALL
  SELECT mm.member_id FROM events e JOIN anonymous_map a USING (anonymous_id)
  JOIN mm ON mm.source = a.source AND mm.source_member_key = a.source_member_key
  WHERE e.source_member_key IS NULL AND e.event_type = 'view'
    AND e.occurred_at >= {cutoff} - INTERVAL 30 DAY AND e.occurred_at < {cutoff}),
viewers AS (SELECT member_id FROM ev GROUP BY member_id HAVING count(*) >= 2),
buyers AS (
  SELECT mm.member_id FROM orders o JOIN mm USING (source, source_member_key)
  WHERE o.ordered_at >= {cutoff} - INTERVAL 30 DAY AND o.ordered_at < {cutoff}
    AND (o.status IS NULL OR o.status NOT IN ('cancelled', 'refunded', 'returned')))
SELECT count(*) FROM {base} b
WHERE b.frequency >= 2 AND b.member_id IN (SELECT member_id FROM viewers)
  AND NOT (b.member_id IN (SELECT member_id FROM buyers))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3, help="Best of this many runs.")
    parser.add_argument("--smoke", action="store_true", help=f"tiny sizes {SMOKE}, seconds")
    args = parser.parse_args()
    if args.smoke:
        vars(args).update(SMOKE)
    folder = Path(tempfile.mkdtemp(prefix="ml-bench-segments-"))
    os.environ.setdefault("XDG_CONFIG_HOME", str(folder / "config"))
    os.environ["MEMBERLENS_WAREHOUSE__MEMORY_LIMIT"] = "8GB"
    init_workspace(folder / "ws")
    with Workspace.open(folder / "ws") as ws:
        started = time.perf_counter()
        sizes = generate(ws, args.members)
        profile.compute_member_features(ws.warehouse, cutoff=CUTOFF, default_timezone="UTC")
        print(f"generated {sizes} and their features in {time.perf_counter() - started:.1f} s")
        cut = CUTOFF.replace(tzinfo=None)
        book = ws.tag_book()
        begun = time.perf_counter()
        table = segment.member_table(ws.warehouse, cut, cut.date(), ws.settings.segments, book)
        ws.warehouse.execute(f"CREATE TABLE bench_base AS {ibis.to_sql(table, dialect='duckdb')}")
        print(f"member table (features, attributes, tags, RFM, lifecycle): "
              f"{time.perf_counter() - begun:.2f} s, once per refresh")  # fmt: skip
        base = ws.warehouse.table("bench_base")
        catalogue = segment.segment_catalogue(book, warehouse=ws.warehouse, cutoff=cut)

        def ours() -> int:
            chosen = base.filter(compile_rule(RULE, catalogue, base))
            return int(ws.warehouse.to_pyarrow(chosen.count().name("n").as_table())[0][0].as_py())

        sql = HAND_SQL.format(cutoff="TIMESTAMP '2025-01-01 00:00:00'", base="bench_base")
        ours_s, ours_n = timed(ours, args.runs)
        hand_s, hand_n = timed(lambda: ws.warehouse.scalar(sql), args.runs)
        if ours_n != hand_n:
            raise SystemExit(f"the counts differ: rule {ours_n:,}, hand-written SQL {hand_n:,}")
        if ours_n == 0:
            raise SystemExit("the rule chose no member: equal counts of 0 prove nothing")
        print(f"rule: {RULE}")
        print(f"memberlens (compiled rule, count): {ours_s:.2f} s -> {ours_n:,} members")
        print(f"hand-written DuckDB SQL:           {hand_s:.2f} s (same count)")
        print(f"ratio: {ours_s / hand_s:.2f}; target: rule <= {TARGET_SECONDS:.1f} s "
              f"({'met' if ours_s <= TARGET_SECONDS else 'missed'})")  # fmt: skip
        print(f"comparison held: the rule and the hand-written SQL both counted {ours_n:,} "
              f"of {sizes['members']:,} members")  # fmt: skip
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}"
    )


if __name__ == "__main__":
    main()
