"""Benchmark: import N behaviour events from CSV, memberlens against a bare DuckDB load.

The peer is the practical limit for this machine: DuckDB's own CSV reader casting
straight into a typed table, with none of memberlens's work (text staging, line
numbers, row identity, validation messages, quarantine, history, member map). The
target is memberlens ≤ 3x the peer's wall time.

    python bench/ingest_events.py [--rows 1000000] [--runs 2] [--profile] [--json] [--smoke]

``--smoke`` loads 2,000 events once each way, and once more profiled, in seconds (the
test suite does, tests/test_bench_smoke.py); its times mean nothing.

Everything is written under a temporary folder (never the repo); key rings go to a
temporary XDG_CONFIG_HOME so nothing lands in the real home.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from memberlens.ingest import IngestRequest, ingest_file, parse_mapping
from memberlens.schema import EVENT_TYPES
from memberlens.store import Warehouse
from memberlens.workspace import Workspace, init_workspace

TARGET_RATIO = 3.0
SMOKE = {"rows": 2_000, "runs": 1, "profile": True}  # --profile too: it looks inside ingest
SEED = 20240501
COLUMNS = (
    "event_id", "source", "source_member_key", "anonymous_id", "event_type", "occurred_at",
    "product_id", "category", "query", "channel", "device", "properties",
)  # fmt: skip
# The peer's typed columns: what a hand-written loader would declare.
PEER_TYPES = {
    "event_id": "VARCHAR", "source": "VARCHAR", "source_member_key": "VARCHAR",
    "anonymous_id": "VARCHAR", "event_type": "VARCHAR", "occurred_at": "TIMESTAMPTZ",
    "product_id": "VARCHAR", "category": "VARCHAR", "query": "VARCHAR", "channel": "VARCHAR",
    "device": "VARCHAR", "properties": "VARCHAR",
}  # fmt: skip
CATEGORIES = ("women", "men", "kids", "beauty", "home", "food", "sports", "digital")
QUERIES = ("dress", "running shoes", "口红", "面霜", "rice cooker", "羽绒服", "phone case")
CHANNELS = ("app", "web", "store", "mini_program")
DEVICES = ("ios", "android", "desktop")


# -- the input file -----------------------------------------------------------------
def _pick(rng: np.random.Generator, values: tuple[str, ...], n: int) -> pa.Array:
    """n values drawn from ``values`` (dictionary-decoded so the CSV holds plain text)."""
    idx = pa.array(rng.integers(0, len(values), n, dtype=np.int32))
    return pa.DictionaryArray.from_arrays(idx, pa.array(values)).cast(pa.string())


def _ids(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    padded = pc.utf8_lpad(pa.array(numbers).cast(pa.string()), width=width, padding="0")
    return pc.binary_join_element_wise(prefix, padded, "")


def _null_where(array: pa.Array, mask: np.ndarray) -> pa.Array:
    return pc.if_else(pa.array(mask), pa.nulls(len(array), pa.string()), array)


def events_table(n: int, seed: int = SEED) -> pa.Table:
    """n deterministic events; a fifth anonymous, products only on product events."""
    rng = np.random.default_rng(seed)
    types = _pick(rng, EVENT_TYPES, n)
    anonymous = rng.random(n) < 0.2
    start = np.datetime64("2024-01-01T00:00:00", "s").astype(np.int64)
    seconds = np.sort(rng.integers(start, start + 180 * 86400, n))
    local = pc.strftime(pa.array(seconds, pa.timestamp("s")), format="%Y-%m-%dT%H:%M:%S")
    no_product = pc.is_in(types, pa.array(["search", "login", "logout", "identify", "visit"]))
    not_search = pc.not_equal(types, "search")
    columns = {
        "event_id": _ids("e", np.arange(1, n + 1), 8),
        "source": pa.array(np.full(n, "app", dtype=object), pa.string()),
        "source_member_key": _null_where(_ids("u", rng.integers(1, n // 20 + 2, n), 7), anonymous),
        "anonymous_id": _ids("a", rng.integers(1, n // 10 + 2, n), 8),
        "event_type": types,
        "occurred_at": pc.binary_join_element_wise(local, "+08:00", ""),
        "product_id": _null_where(
            _ids("p", rng.integers(1, 20_001, n), 5), no_product.to_numpy(zero_copy_only=False)
        ),
        "category": _pick(rng, CATEGORIES, n),
        "query": _null_where(_pick(rng, QUERIES, n), not_search.to_numpy(zero_copy_only=False)),
        "channel": _pick(rng, CHANNELS, n),
        "device": _pick(rng, DEVICES, n),
        "properties": pa.nulls(n, pa.string()),
    }
    return pa.table(columns)


def write_events_csv(path: Path, n: int) -> float:
    """Write the file; return seconds taken (reported, not part of either timing)."""
    started = time.perf_counter()
    # No value holds a delimiter or quote, so plain text, like most exports.
    options = pacsv.WriteOptions(include_header=True, quoting_style="none")
    pacsv.write_csv(events_table(n), path, write_options=options)
    return time.perf_counter() - started


# -- the peer -----------------------------------------------------------------------
def peer_load(csv_path: Path, db_path: Path) -> tuple[float, int]:
    """Bare typed load into a fresh DuckDB file; return (seconds, rows)."""
    db_path.unlink(missing_ok=True)
    cols = ", ".join(f"{name} {kind}" for name, kind in PEER_TYPES.items())
    typed = "{" + ", ".join(f"'{name}': '{kind}'" for name, kind in PEER_TYPES.items()) + "}"
    started = time.perf_counter()
    con = duckdb.connect(str(db_path))
    try:
        con.execute(f"CREATE TABLE t ({cols})")
        con.execute(
            f"INSERT INTO t SELECT * FROM read_csv(?, header=true, columns={typed})",
            [str(csv_path)],
        )
        rows = con.execute("SELECT count(*) FROM t").fetchone()[0]  # type: ignore[index]
    finally:
        con.close()
    return time.perf_counter() - started, int(rows)


# -- memberlens ---------------------------------------------------------------------
@dataclass
class StageClock:
    """Seconds per stage; ``wrap`` times a function each time it is called."""

    seconds: dict[str, float] = field(default_factory=dict)

    def add(self, name: str, elapsed: float) -> None:
        self.seconds[name] = self.seconds.get(name, 0.0) + elapsed

    def wrap(self, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.add(name, time.perf_counter() - started)

        return timed


# The private steps of ingest_file, timed only in a --profile run (a bench may look
# inside; the package itself never imports these from outside ingest).
_STAGES = (
    "stage_file", "_add_source_keys", "_validate", "_quarantine", "_prepare_good",
    "_apply", "_map_members", "_record_run", "_drop_temps",
)  # fmt: skip


@contextlib.contextmanager
def profiled(clock: StageClock) -> Iterator[None]:
    """Time each private step of ``ingest_file`` and every SQL statement it sends."""
    from memberlens.ingest import _load  # private: only a profiling run looks inside

    originals = {name: getattr(_load, name) for name in _STAGES}
    execute = Warehouse.execute

    def timed_execute(self: Warehouse, sql: str, params: Any = None) -> Any:
        started = time.perf_counter()
        try:
            return execute(self, sql, params)
        finally:
            clock.add("sql: " + " ".join(sql.split())[:90], time.perf_counter() - started)

    try:
        for name, fn in originals.items():
            setattr(_load, name, clock.wrap(name, fn))
        Warehouse.execute = timed_execute  # type: ignore[method-assign]
        yield
    finally:
        for name, fn in originals.items():
            setattr(_load, name, fn)
        Warehouse.execute = execute  # type: ignore[method-assign]


def memberlens_load(csv_path: Path, ws_root: Path, n: int) -> tuple[float, int]:
    """init_workspace + ingest_file on a fresh workspace; time the import only."""
    init_workspace(ws_root, name="bench")
    mapping = parse_mapping("", origin="bench", name="none")
    with Workspace.open(ws_root) as ws:
        request = IngestRequest(kind="events", path=csv_path, mapping=mapping)
        started = time.perf_counter()
        result = ingest_file(ws.warehouse, ws.keyring, request)
        elapsed = time.perf_counter() - started
        stored = int(ws.warehouse.scalar("SELECT count(*) FROM events"))
    if not result.read == result.loaded == stored == n:
        raise SystemExit(
            f"expected read == loaded == stored == {n}, got read={result.read} "
            f"loaded={result.loaded} stored={stored} quarantined={result.quarantined} "
            f"duplicates={result.duplicates}"
        )
    return elapsed, stored


# -- reporting ----------------------------------------------------------------------
def machine() -> dict[str, Any]:
    return {
        "cores": os.cpu_count(),
        "ram_gb": _ram_gb(),
        "cpu": _cpu_model(),
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
        "os": platform.platform(terse=True),
    }


def _ram_gb() -> float | None:
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024**2, 1)
    return None


def _cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def _row(name: str, rows: int, seconds: float) -> dict[str, Any]:
    return {"name": name, "rows": rows, "seconds": round(seconds, 3),
            "rows_per_s": round(rows / seconds)}  # fmt: skip


def print_table(report: dict[str, Any]) -> None:
    m = report["machine"]
    print(f"machine: {m['cores']} cores ({m['cpu']}), {m['ram_gb']} GB RAM, "
          f"Python {m['python']}, DuckDB {m['duckdb']}, {m['os']}")  # fmt: skip
    print(f"input:   {report['rows']:,} events, {report['csv_mb']} MB CSV "
          f"(written in {report['generate_s']} s); best of {report['runs']} runs")  # fmt: skip
    print(f"\n{'':<12}{'rows':>12}{'seconds':>10}{'rows/s':>12}")
    for r in (report["peer"], report["memberlens"]):
        print(f"{r['name']:<12}{r['rows']:>12,}{r['seconds']:>10.2f}{r['rows_per_s']:>12,}")
    verdict = "ok" if report["ratio"] <= TARGET_RATIO else "ABOVE TARGET"
    print(f"\nratio memberlens/peer: {report['ratio']:.2f}  (target ≤ {TARGET_RATIO:g}: {verdict})")
    if report.get("stages"):
        print("\nmemberlens stages (profiled run, seconds):")
        for name, secs in report["stages"].items():
            print(f"  {secs:8.2f}  {name}")


# -- main ---------------------------------------------------------------------------
def best_of(runs: int, once: Callable[[int], tuple[float, int]]) -> tuple[float, int]:
    results = [once(i) for i in range(runs)]
    return min(results)


def profile_stages(csv_path: Path, tmp: Path, n: int) -> dict[str, float]:
    """One more memberlens run with every step and statement timed; slowest first."""
    clock = StageClock()
    with profiled(clock):
        total, _ = memberlens_load(csv_path, tmp / "ws-profile", n)
    in_steps = sum(v for k, v in clock.seconds.items() if k in _STAGES)
    clock.seconds["(total, profiled)"] = total
    # The final COMMIT runs between the steps, so it shows up here.
    clock.seconds["(outside the steps: COMMIT, glue)"] = total - in_steps
    top = sorted(clock.seconds.items(), key=lambda kv: -kv[1])
    steps = [(k, v) for k, v in top if not k.startswith("sql: ")]
    statements = [(k, v) for k, v in top if k.startswith("sql: ")][:8]
    return {k: round(v, 3) for k, v in steps + statements}


def run(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    csv_path = tmp / "events.csv"
    generate_s = write_events_csv(csv_path, args.rows)
    peer_s, peer_rows = best_of(args.runs, lambda i: peer_load(csv_path, tmp / f"peer{i}.duckdb"))
    ml_s, ml_rows = best_of(
        args.runs, lambda i: memberlens_load(csv_path, tmp / f"ws{i}", args.rows)
    )
    if peer_rows != args.rows:
        raise SystemExit(f"the peer loaded {peer_rows} rows, expected {args.rows}")
    report: dict[str, Any] = {
        "benchmark": "ingest_events",
        "rows": args.rows,
        "runs": args.runs,
        "csv_mb": round(csv_path.stat().st_size / 1e6, 1),
        "generate_s": round(generate_s, 2),
        "peer": _row("duckdb", peer_rows, peer_s),
        "memberlens": _row("memberlens", ml_rows, ml_s),
        "ratio": round(ml_s / peer_s, 2),
        "target_ratio": TARGET_RATIO,
        "machine": machine(),
    }
    if args.profile or report["ratio"] > TARGET_RATIO:
        report["stages"] = profile_stages(csv_path, tmp, args.rows)
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=2, help="best of this many runs (each)")
    parser.add_argument("--profile", action="store_true", help="time memberlens's stages too")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--smoke", action="store_true", help=f"tiny sizes {SMOKE}, seconds")
    args = parser.parse_args(argv)
    if args.smoke:
        vars(args).update(SMOKE)
    with tempfile.TemporaryDirectory(prefix="memberlens-bench-") as name:
        tmp = Path(name)
        # Key rings are written under XDG_CONFIG_HOME; keep them in the temp folder.
        os.environ["XDG_CONFIG_HOME"] = str(tmp / "config")
        os.environ.pop("MEMBERLENS_KEYS", None)
        report = run(args, tmp)
    if args.json:
        print(json.dumps(report, indent=2, ensure_ascii=False))
    else:
        print_table(report)
        print(f"\ncomparison held: memberlens and the bare DuckDB load each stored all "
              f"{args.rows:,} events")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
