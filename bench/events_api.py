"""Benchmark: the event collection API under load, on loopback.

Starts a real `memberlens serve` on a fresh workspace, then a load generator sends
batches of 100 events from several keep-alive connections for a fixed time. Prints
sustained events/s with p50/p99 request latency beside the target (≥ 5,000 events/s
on 2 cores), then stops the server gracefully and checks that the number of events
stored in the warehouse equals the number the API accepted.

    python bench/events_api.py [--seconds 60] [--workers 4] [--batch 100] [--json] [--smoke]

``--smoke`` sends for 1 s from 2 connections in batches of 20 (the test suite does,
tests/test_bench_smoke.py): the same server, load and count check; its rate means nothing.

Traffic goes to 127.0.0.1 only; every loop is bounded in time.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from memberlens import accounts
from memberlens.workspace import Workspace, init_workspace

TARGET_EVENTS_PER_SECOND = 5_000
SMOKE = {"seconds": 1.0, "workers": 2, "batch": 20}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_up(url: str, deadline_s: float = 60) -> None:
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.2)
    raise SystemExit("the server did not start")


def _start_server(root: Path) -> tuple[subprocess.Popen[bytes], str]:
    """`memberlens serve` on a free loopback port, rate limits out of the way; the
    process and the API's base URL."""
    port = _free_port()
    env = {
        **os.environ,
        "MEMBERLENS_SERVER__RATE_PER_TOKEN": "100000",
        "MEMBERLENS_SERVER__BURST": "100000",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "memberlens", "serve", "--port", str(port), "-w", str(root)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return server, f"http://127.0.0.1:{port}/api/v1"


def _worker(
    base: str,
    token: str,
    batch: int,
    stop_at: float,
    wid: int,
    latencies: list[float],
    counts: list[int],
) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    n = 0
    with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
        while time.monotonic() < stop_at:
            events = [
                {
                    "event_id": f"w{wid}-{n}-{i}",
                    "source_member_key": f"u{i % 997}",
                    "event_type": "view",
                    "occurred_at": "2025-06-01T12:00:00Z",
                    "product_id": f"p{i}",
                }
                for i in range(batch)
            ]
            started = time.perf_counter()
            answer = client.post("/events", json=events)
            latencies.append(time.perf_counter() - started)
            if answer.status_code == 202:
                counts.append(answer.json()["accepted"])
            n += 1


def run(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    os.environ["XDG_CONFIG_HOME"] = str(tmp / "config")
    root = tmp / "ws"
    init_workspace(root)
    with Workspace.open(root) as ws:
        _, token = accounts.create_token(
            ws.state, name="bench", scopes=["events:write"], actor="bench"
        )
    server, base = _start_server(root)
    latencies: list[float] = []
    counts: list[int] = []
    try:
        _wait_up(f"{base}/health")
        stop_at = time.monotonic() + args.seconds
        started = time.monotonic()
        threads = [
            threading.Thread(
                target=_worker, args=(base, token.secret, args.batch, stop_at, w, latencies, counts)
            )
            for w in range(args.workers)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        elapsed = time.monotonic() - started
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=300)
    with Workspace.open(root) as ws:
        stored = int(ws.warehouse.scalar("SELECT count(*) FROM events"))
    accepted = sum(counts)
    lat = np.array(latencies) * 1000
    return {
        "seconds": round(elapsed, 1),
        "workers": args.workers,
        "batch": args.batch,
        "requests": len(latencies),
        "accepted": accepted,
        "stored": stored,
        "events_per_second": round(accepted / elapsed),
        "p50_ms": round(float(np.percentile(lat, 50)), 1),
        "p99_ms": round(float(np.percentile(lat, 99)), 1),
        "target_events_per_second": TARGET_EVENTS_PER_SECOND,
        "ratio_to_target": round(accepted / elapsed / TARGET_EVENTS_PER_SECOND, 2),
        "cores": os.cpu_count(),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--smoke", action="store_true", help=f"tiny sizes {SMOKE}, seconds")
    args = parser.parse_args(argv)
    if args.smoke:
        vars(args).update(SMOKE)
    with tempfile.TemporaryDirectory(prefix="memberlens-bench-") as tmp:
        report = run(args, Path(tmp))
    held = 0 < report["accepted"] == report["stored"]
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(
            f"{report['requests']:,} requests of {args.batch} events from {args.workers} "
            f"connections in {report['seconds']} s on {report['cores']} cores"
        )
        print(
            f"sustained {report['events_per_second']:,} events/s "
            f"(target ≥ {TARGET_EVENTS_PER_SECOND:,}: ratio {report['ratio_to_target']}); "
            f"latency p50 {report['p50_ms']} ms, p99 {report['p99_ms']} ms"
        )
        same = "equal" if report["accepted"] == report["stored"] else "DIFFERENT"
        print(
            f"accepted {report['accepted']:,}, stored after the final flush "
            f"{report['stored']:,}: {same}"
        )
        if held:
            print(f"comparison held: all {report['accepted']:,} accepted events were stored")
    return 0 if held else 1


if __name__ == "__main__":
    sys.exit(main())
