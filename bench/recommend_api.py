"""Benchmark: the recommendations endpoint under an open-loop load, on loopback.

Fills a fresh workspace's online tables the way a refresh would publish them — without
running one (too slow for a bench): seeded synthetic lists of ``--candidates`` items
for 90% of ``--members`` (the rest are cold start and get their city's, region's or
everyone's list), ``--products`` products of which 5% are out of stock, the member-key
look-up (every member ``app/u{i}``, one in five also ``pos/p{i}``), a few thousand
purchases accepted since the publication and a few hundred withdrawals of
personalisation (published and not yet published). Then starts a real
``memberlens serve`` and sends requests at a fixed rate, each scheduled at
``t0 + i / rate`` whatever the earlier ones did (open loop), its latency counted from
that scheduled instant, so a slow server cannot hide its queue (no coordinated
omission). Prints the achieved rate, errors (any answer but 200) and p50 / p95 / p99 /
max latency beside the target (p99 ≤ 20 ms at 200 requests/s on 2 cores) and the ratio,
then checks 20 members' answers against ``online.recommendations_now`` in-process.

    python bench/recommend_api.py [--members 100000] [--products 20000]
        [--candidates 40] [--rate 200] [--seconds 60] [--json] [--smoke]

The script exits 1 on any error answer or a spot-checked answer unequal to
``online.recommendations_now``. ``--smoke`` runs it all on 2,000 members and 500
products, at 50 requests/s for 1 s, in seconds (the test suite does,
tests/test_bench_smoke.py); its latencies mean nothing.

The load generator runs on the same cores as the server: its own work counts against
the target. Traffic goes to 127.0.0.1 only; every loop is bounded in time.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import re
import signal
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import httpx
import numpy as np
from events_api import _start_server, _wait_up  # bench/ is sys.path[0] when run as a script
from sqlalchemy import insert

from memberlens import accounts, online, recommend
from memberlens.core.settings import load_settings
from memberlens.privacy import KEY_SEP
from memberlens.store import (
    CONSENT_SNAPSHOT_KEY,
    ConsentBufferRow,
    OnlineConsentRow,
    OnlineMemberKeyRow,
    RecentPurchaseRow,
    StateStore,
)
from memberlens.workspace import Workspace, init_workspace, open_state

TARGET_P99_MS = 20.0
TARGET_RATE = 200
SCENARIO = "home"
CITIES, REGIONS, CATEGORIES = 50, 8, 20
_CHUNK = 10_000
SMOKE = {
    "members": 2_000, "products": 500, "purchases": 50, "withdrawals": 20, "rate": 50.0,
    "seconds": 1.0, "warmup": 0.5, "peer_seconds": 0.5, "connections": 8,
}  # fmt: skip


def _cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of process ``pid`` so far (Linux /proc; else None)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _products(n: int, rng: np.random.Generator) -> recommend.Products:
    ids = np.asarray([f"p{j:06d}" for j in range(n)], dtype=str)
    blank = np.asarray([""] * n, dtype=object)
    return recommend.Products(
        ids=ids,
        name=np.asarray([f"Product {j}" for j in range(n)], dtype=object),
        category=np.asarray([f"cat{c}" for c in rng.integers(0, CATEGORIES, n)], dtype=object),
        subcategory=blank,
        brand=blank,
        tags=blank,
        price=np.round(rng.uniform(2, 200, n), 2),
        in_stock=rng.random(n) >= 0.05,
        listed=np.ones(n, dtype=bool),
    )


def _lists(args: argparse.Namespace, rng: np.random.Generator) -> recommend.Lists:
    """Own lists (popularity-skewed picks, best first) for 9 members in 10, fallbacks."""
    products = _products(args.products, rng)
    out = recommend.Lists(products=products)
    ids = products.ids.tolist()
    weight = 1.0 / (np.arange(args.products) + 10.0) ** 0.8
    weight /= weight.sum()
    width = args.candidates
    for start in range(0, args.members, _CHUNK):
        block = range(start, min(start + _CHUNK, args.members))
        picks = rng.choice(args.products, size=(len(block), width + width // 2), p=weight)
        scores = -np.sort(-rng.gamma(2.0, 1.0, size=(len(block), width)), axis=1)
        for row, i in enumerate(block):
            if i % 10 == 0:  # cold start: no list of their own
                continue
            chosen = list(dict.fromkeys(picks[row].tolist()))[:width]
            out.add(
                SCENARIO,
                f"m{i}",
                [ids[j] for j in chosen],
                scores[row, : len(chosen)].tolist(),
                ["because you bought similar items"] * len(chosen),
                "item_knn v1",
            )
    places = [("@all", "popular right now")]
    places += [(f"@city:C{c}", f"popular in C{c}") for c in range(CITIES)]
    places += [(f"@region:R{r}", f"popular in R{r}") for r in range(REGIONS)]
    for list_id, reason in places:
        chosen = list(dict.fromkeys(rng.choice(args.products, 2 * width, p=weight).tolist()))
        chosen = chosen[:width]
        values = np.sort(rng.gamma(2.0, 1.0, len(chosen)))[::-1]
        out.add(SCENARIO, list_id, [ids[j] for j in chosen], values.tolist(),
                [reason] * len(chosen), "trending")  # fmt: skip
    for i in range(args.members):  # 7 in 10 a city's list, 2 a region's, 1 none (@all)
        kind = i % 10
        if kind < 7:
            out.fallback[f"m{i}"] = f"@city:C{i % CITIES}"
        elif kind < 9:
            out.fallback[f"m{i}"] = f"@region:R{i % REGIONS}"
    return out


def _seed_state(
    state: StateStore, lists: recommend.Lists, args: argparse.Namespace, rng: np.random.Generator
) -> dict[str, list[int]]:
    """Member keys, recent purchases and withdrawals; which members each touches."""
    now = datetime.now().replace(microsecond=0)
    n = args.members
    keys = [{"source": "app", "source_member_key": f"u{i}", "member_id": f"m{i}"} for i in range(n)]
    keys += [
        {"source": "pos", "source_member_key": f"p{i}", "member_id": f"m{i}"}
        for i in range(0, n, 5)
    ]
    own = [i for i in range(n) if i % 10]
    bought = rng.choice(own, size=min(args.purchases, len(own)), replace=False).tolist()
    rows = lists.table()
    list_ids = rows.column("list_id").to_pylist()
    products = rows.column("product_id").to_pylist()
    starts: dict[str, int] = {}
    for at, list_id in enumerate(list_ids):
        starts.setdefault(list_id, at)
    purchases = []
    for i in bought:  # one of the first 20 items of their own list, bought just now
        at = starts[f"m{i}"] + int(rng.integers(0, 20))
        at = at if at < len(list_ids) and list_ids[at] == f"m{i}" else starts[f"m{i}"]
        source, key = ("pos", f"p{i}") if i % 5 == 0 and rng.random() < 0.5 else ("app", f"u{i}")
        purchases.append({"source": source, "source_member_key": key,
                          "product_id": products[at], "at": now})  # fmt: skip
    others = sorted(set(range(n)) - set(bought))
    refused = rng.choice(others, size=min(args.withdrawals, len(others)), replace=False).tolist()
    published, pending = refused[: len(refused) * 3 // 5], refused[len(refused) * 3 // 5 :]
    consent = [
        {"member_id": f"m{i}", "purpose": "personalisation", "channel": "*", "allowed": False,
         "code": "WITHDRAWN", "withdrawn_by": f"app{KEY_SEP}u{i}", "as_of": now}
        for i in published
    ]  # fmt: skip
    buffer = [
        {"ingest_id": 1_000_000 + at, "source": "app", "source_member_key": f"u{i}",
         "purpose": "personalisation", "channel": "*", "granted": False,
         "recorded_at": now, "policy_version": None, "received_at": now}
        for at, i in enumerate(pending)
    ]  # fmt: skip
    with state.session() as s, s.begin():
        for start in range(0, len(keys), _CHUNK):
            s.execute(insert(OnlineMemberKeyRow), keys[start : start + _CHUNK])
        s.execute(insert(RecentPurchaseRow), purchases)
        s.execute(insert(OnlineConsentRow), consent)
        s.execute(insert(ConsentBufferRow), buffer)
    stamp = (now - timedelta(hours=1)).isoformat()
    state.set_meta(CONSENT_SNAPSHOT_KEY, json.dumps({"snapshot_at": stamp, "as_of": stamp}))
    return {"bought": bought, "published": published, "pending": pending}


def _plan(count: int, members: int, rng: np.random.Generator) -> list[tuple[str, dict[str, Any]]]:
    """Request paths and query strings: 75% by app key, 5% by a second (pos) key, 15% by
    member id, 5% unknown keys; k the scenario's default 6 times in 10, else 5, 10 or 20."""
    who = rng.random(count)
    member = rng.integers(0, members, count)
    ks = rng.choice([0, 0, 0, 0, 0, 0, 5, 10, 20, 20], count)
    plan = []
    for n in range(count):
        i = int(member[n])
        if who[n] < 0.75:
            path = f"/members/app/u{i}/recommendations"
        elif who[n] < 0.80:
            path = f"/members/pos/p{i - i % 5}/recommendations"
        elif who[n] < 0.95:
            path = f"/members/m{i}/recommendations"
        else:
            path = f"/members/app/stranger{i}/recommendations"
        params = {"scenario": SCENARIO, **({"k": int(ks[n])} if ks[n] else {})}
        plan.append((path, params))
    return plan


class _Connections:
    """Keep-alive HTTP/1.1 connections to one host: a small, cheap client for the load.

    httpx's async pool costs the generator 2-6 ms of CPU a request at these rates (it
    then falls behind its own schedule on 2 shared cores); this costs a few tenths.
    Answers must carry Content-Length (uvicorn's JSON answers do); any other answer
    counts as an error and its connection is closed.
    """

    def __init__(self, base: str, token: str, limit: int) -> None:
        url = urlsplit(base)
        self.host, self.port, self.prefix = url.hostname or "127.0.0.1", url.port or 80, url.path
        self.head = f"Host: {url.netloc}\r\nAuthorization: Bearer {token}\r\n\r\n".encode()
        self.idle: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]]
        self.idle = asyncio.Queue()
        self.limit, self.opened = limit, 0

    async def _take(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self.idle.empty() and self.opened < self.limit:
            self.opened += 1
            try:
                return await asyncio.open_connection(self.host, self.port)
            except BaseException:  # refused, or cancelled by the timeout
                self.opened -= 1
                raise
        return await self.idle.get()

    async def get(self, path: str, params: dict[str, Any]) -> int:
        """The status of ``GET path?params`` (the body is read and dropped)."""
        reader, writer = await self._take()
        keep = False
        try:
            query = f"?{urlencode(params)}" if params else ""
            writer.write(f"GET {self.prefix}{path}{query} HTTP/1.1\r\n".encode() + self.head)
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1").lower()
            status = int(head[9:12])
            length = re.search(r"\r\ncontent-length: *(\d+)", head)
            if length is None:
                return -1
            await reader.readexactly(int(length.group(1)))
            keep = "\r\nconnection: close" not in head
            return status
        finally:
            if keep:
                self.idle.put_nowait((reader, writer))
            else:
                self.opened -= 1
                writer.close()

    def close(self) -> None:
        while not self.idle.empty():
            self.idle.get_nowait()[1].close()


async def _drive(
    base: str, token: str, plan: list[tuple[str, Any]], rate: float, connections: int
) -> dict[str, Any]:
    """Send ``plan`` open-loop at ``rate``; latency from each request's scheduled time."""
    n = len(plan)
    latency = np.full(n, np.nan)
    status = np.zeros(n, dtype=np.int64)
    lag = np.zeros(n)  # how late the generator itself sent each request
    loop = asyncio.get_running_loop()
    pool = _Connections(base, token, connections)

    async def one(i: int, due: float) -> None:
        lag[i] = loop.time() - due
        try:
            status[i] = await asyncio.wait_for(pool.get(*plan[i]), timeout=10)
        except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError):
            status[i] = -1
        latency[i] = loop.time() - due

    # The generator's own garbage collections would pause it mid-run (a full one takes
    # ~0.1 s here) and count against the server: collect now, then not until the end.
    gc.collect()
    gc.freeze()
    gc.disable()
    cpu = time.process_time()
    t0 = loop.time() + 0.2
    tasks = []
    for i in range(n):
        due = t0 + i / rate
        if due > loop.time():
            await asyncio.sleep(due - loop.time())
        tasks.append(asyncio.create_task(one(i, due)))
    sent = loop.time() - t0
    _, pending = await asyncio.wait(tasks, timeout=15)
    for task in pending:
        task.cancel()
    done = loop.time() - t0
    gc.enable()
    gc.unfreeze()
    pool.close()
    return {
        "latency": latency,
        "status": status,
        "lag": lag,
        "sent_s": sent,
        "done_s": done,
        "generator_cpu_s": time.process_time() - cpu,
    }


def _spot_check(
    root: Path, base: str, token: str, touched: dict[str, list[int]], args: argparse.Namespace
) -> tuple[int, int]:
    """20 members (withdrawn, just bought, cold start, any): HTTP equals in-process."""
    rng = np.random.default_rng(args.seed + 1)
    picks = [*touched["published"][:3], *touched["pending"][:3], *touched["bought"][:4]]
    picks += [10 * int(c) for c in rng.integers(0, args.members // 10, 3)]  # cold start
    picks += rng.integers(0, args.members, 20 - len(picks)).tolist()
    settings = load_settings(root)
    scenarios = recommend.load_scenarios(root / settings.recommend.file)
    state = open_state(root)
    same = 0
    try:
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}) as c:
            for i in picks:
                answer = c.get(f"/members/app/u{i}/recommendations", params={"k": 20}, timeout=10)
                served = online.recommendations_now(
                    state, scenarios, scenario=SCENARIO, k=20, source="app",
                    source_member_key=f"u{i}", consent=settings.consent,
                )  # fmt: skip
                http = [item["product_id"] for item in answer.json()["items"]]
                same += http == [item["product_id"] for item in served.items] and len(http) > 0
    finally:
        state.close()
    return same, len(picks)


def run(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    os.environ["XDG_CONFIG_HOME"] = str(tmp / "config")
    root = tmp / "ws"
    init_workspace(root)
    load_at_start = os.getloadavg()  # before this bench's own set-up loads the cores
    rng = np.random.default_rng(args.seed)
    started = time.perf_counter()
    lists = _lists(args, rng)
    with Workspace.open(root) as ws:
        published = online.publish_recommendations(ws.state, lists, as_of=datetime.now())
        touched = _seed_state(ws.state, lists, args, rng)
        _, token = accounts.create_token(
            ws.state, name="bench", scopes=["recommendations:read"], actor="bench"
        )
    del lists
    setup_s = time.perf_counter() - started
    server, base = _start_server(root)
    warm = _plan(int(args.rate / 2 * args.warmup), args.members, rng)
    plan = _plan(int(args.rate * args.seconds), args.members, rng)
    try:
        _wait_up(f"{base}/health")
        # Warm the caches at half the rate: a cold server pushed straight to the full rate
        # can start the run with a queue that the run would then be blamed for.
        asyncio.run(_drive(base, token.secret, warm, args.rate / 2, args.connections))
        time.sleep(2)
        load_before = os.getloadavg()
        cpu_before = _cpu_seconds(server.pid)
        result = asyncio.run(_drive(base, token.secret, plan, args.rate, args.connections))
        cpu_after = _cpu_seconds(server.pid)
        load_after = os.getloadavg()
        same, checked = _spot_check(root, base, token.secret, touched, args)
        health: list[tuple[str, dict[str, Any]]] = [("/health", {})] * int(
            args.rate * args.peer_seconds
        )
        cpu_peer = _cpu_seconds(server.pid)
        peer = asyncio.run(_drive(base, token.secret, health, args.rate, args.connections))
        cpu_peer_after = _cpu_seconds(server.pid)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=120)
    ms = result["latency"] * 1000
    answered = ms[np.isfinite(ms)]
    peer_ms = peer["latency"][np.isfinite(peer["latency"])] * 1000
    # Seconds of the run (by scheduled time) whose slowest 1% missed the target.
    second = np.arange(len(ms)) // max(1, int(args.rate))
    late = [
        int(t) for t in np.unique(second) if np.nanpercentile(ms[second == t], 99) > TARGET_P99_MS
    ]
    errors = int((result["status"] != 200).sum())
    p99 = float(np.percentile(answered, 99)) if len(answered) else float("inf")
    return {
        "members": args.members,
        "products": args.products,
        "candidates": args.candidates,
        "recommendation_rows": published["recommendation_rows"],
        "setup_seconds": round(setup_s, 1),
        "target_rate": args.rate,
        "requests": len(plan),
        "achieved_rate": round(len(plan) / result["sent_s"], 1),
        "completed_rate": round(len(answered) / result["done_s"], 1),
        "errors": errors,
        "generator_cpu_ms_per_request": round(result["generator_cpu_s"] / len(plan) * 1000, 2),
        "generator_lag_p99_ms": round(float(np.percentile(result["lag"], 99)) * 1000, 2),
        "generator_lag_max_ms": round(float(result["lag"].max()) * 1000, 2),
        **{
            f"p{q}_ms": round(float(np.percentile(answered, q)), 2) if len(answered) else None
            for q in (50, 95, 99)
        },
        "max_ms": round(float(answered.max()), 2) if len(answered) else None,
        "server_cpu_ms_per_request": (
            round((cpu_after - cpu_before) / len(plan) * 1000, 2)
            if cpu_before is not None and cpu_after is not None
            else None
        ),
        "seconds_over_target": len(late),
        "first_second_over_target": late[0] if late else None,
        "target_p99_ms": TARGET_P99_MS,
        "ratio_p99_to_target": round(p99 / TARGET_P99_MS, 2),
        "peer_health_p50_ms": round(float(np.percentile(peer_ms, 50)), 2) if len(peer_ms) else None,
        "peer_health_p99_ms": round(float(np.percentile(peer_ms, 99)), 2) if len(peer_ms) else None,
        "peer_health_errors": int((peer["status"] != 200).sum()),
        "peer_health_server_cpu_ms_per_request": (
            round((cpu_peer_after - cpu_peer) / len(health) * 1000, 2)
            if cpu_peer is not None and cpu_peer_after is not None and health
            else None
        ),
        "spot_check_equal": same,
        "spot_check_members": checked,
        "load_average_at_start": [round(x, 2) for x in load_at_start],
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in load_after],
        "cores": os.cpu_count(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--products", type=int, default=20_000)
    parser.add_argument("--candidates", type=int, default=40)
    parser.add_argument("--purchases", type=int, default=5_000)
    parser.add_argument("--withdrawals", type=int, default=500)
    parser.add_argument("--rate", type=float, default=TARGET_RATE)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument(
        "--warmup", type=float, default=5, help="seconds at half --rate, not counted"
    )
    parser.add_argument(
        "--peer-seconds", type=float, default=20, help="then GET /health at --rate this long"
    )
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--smoke", action="store_true", help=f"tiny sizes {SMOKE}, seconds")
    args = parser.parse_args(argv)
    if args.smoke:
        vars(args).update(SMOKE)
    with tempfile.TemporaryDirectory(prefix="memberlens-bench-") as tmp:
        r = run(args, Path(tmp))
    if args.json:
        print(json.dumps(r, indent=2))
    else:
        print(
            f"online tables: {r['members']:,} members, {r['products']:,} products, "
            f"{r['recommendation_rows']:,} list rows (set up in {r['setup_seconds']} s)"
        )
        print(
            f"{r['requests']:,} requests scheduled at {r['target_rate']:g}/s: sent at "
            f"{r['achieved_rate']}/s (generator: lag p99 {r['generator_lag_p99_ms']} ms, "
            f"max {r['generator_lag_max_ms']} ms, CPU "
            f"{r['generator_cpu_ms_per_request']} ms a request), "
            f"{r['errors']} errors, on {r['cores']} cores shared by server and generator"
        )
        print(
            f"latency from the scheduled time: p50 {r['p50_ms']} ms, p95 {r['p95_ms']} ms, "
            f"p99 {r['p99_ms']} ms, max {r['max_ms']} ms "
            f"(target p99 ≤ {TARGET_P99_MS:g} ms: ratio {r['ratio_p99_to_target']}); "
            f"server CPU {r['server_cpu_ms_per_request']} ms a request; "
            f"{r['seconds_over_target']} of {int(args.seconds)} seconds had p99 over the target"
            + (
                f" (first: second {r['first_second_over_target']})"
                if r["seconds_over_target"]
                else ""
            )
        )
        print(
            f"peer: GET /health (no token, one count query) at the same rate on the same "
            f"server: p50 {r['peer_health_p50_ms']} ms, p99 {r['peer_health_p99_ms']} ms, "
            f"{r['peer_health_errors']} errors, server CPU "
            f"{r['peer_health_server_cpu_ms_per_request']} ms a request"
        )
        print(
            f"spot check: {r['spot_check_equal']}/{r['spot_check_members']} answers equal "
            f"recommendations_now in-process; load average at start "
            f"{r['load_average_at_start']}, before the load {r['load_average_before']}, "
            f"after {r['load_average_after']}"
        )
    ok = r["errors"] == 0 and r["spot_check_equal"] == r["spot_check_members"]
    if ok and not args.json:
        print(
            f"comparison held: no error in {r['requests']:,} requests; all "
            f"{r['spot_check_members']} spot-checked answers equal recommendations_now"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
