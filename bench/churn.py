"""Benchmark: the churn model on the whole CDNOW_master beside its BG/NBD baseline.

CDNOW_master (23,570 customers) is ingested with the ``cdnow`` preset and the churn
model fitted as of 1998-07-01 under the strict protocol: every training label window
ends before the test cut-off, the horizon chosen from the data's own purchase gaps.
On the test cut-off the model's ROC-AUC and PR-AUC are printed beside those of BG/NBD's
expected purchases in the horizon (the peer: fewer means riskier), with their ratios,
and the next-purchase error beside the naive guess (the buyer's mean gap). Targets:
the model beats BG/NBD on both AUCs and the naive guess on next-purchase MAE.

This ran as a test until the suite had to finish in 15 minutes (issue 18): it measures
at scale, which is bench/'s work. tests/predict/test_churn.py keeps the same protocol
on the CDNOW sample (2,357 buyers) with the issue's known BG/NBD figure.

    python bench/churn.py [--smoke]

``--smoke`` fits on the first 3,000 lines of the file (half a minute; the suite runs
it). So few buyers say nothing about which model ranks better — BG/NBD wins there —
so the smoke run holds the comparison's frame instead: both scored on the same buyers,
every file customer among them, the strict windows.
"""

from __future__ import annotations

import argparse
import os
import platform
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from memberlens import predict
from memberlens.ingest import IngestRequest, ingest_file, load_preset
from memberlens.workspace import Workspace, init_workspace

DATASETS = Path(__file__).resolve().parents[2] / "shared" / "datasets"
AS_OF = date(1998, 7, 1)
SMOKE_LINES = 3_000


def _customers(path: Path) -> int:
    """Distinct customer ids (the first column; the header's is not a number)."""
    with path.open(encoding="utf-8") as text:
        return len({w[0] for w in map(str.split, text) if w and w[0].isdigit()})


def _source(folder: Path, smoke: bool) -> Path:
    path = DATASETS / "cdnow" / "CDNOW_master.txt"
    if not path.is_file():
        raise SystemExit(f"{path} not found: the shared data sets sit beside the repository")
    if not smoke:
        return path
    head = folder / "CDNOW_head.txt"
    with path.open(encoding="utf-8") as text:
        head.write_text("".join(line for _, line in zip(range(SMOKE_LINES), text, strict=False)))
    return head


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help=f"the first {SMOKE_LINES} lines")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ml-bench-churn-") as folder:
        os.environ["XDG_CONFIG_HOME"] = str(Path(folder) / "config")  # a throwaway key ring
        root = Path(folder) / "ws"
        init_workspace(root)
        source = _source(Path(folder), args.smoke)
        customers = _customers(source)
        with Workspace.open(root) as ws:
            request = IngestRequest(kind="orders", path=source, mapping=load_preset("cdnow"))
            ingest_file(ws.warehouse, ws.keyring, request)
            began = time.perf_counter()
            report = predict.fit_churn(
                ws.warehouse, ws.state, ws.root, as_of=AS_OF, default_timezone="UTC"
            )
            seconds = time.perf_counter() - began
    t = report.evaluation
    model, peer, nxt = t.model, t.baseline, t.next_purchase
    print(
        f"CDNOW_master{' (first lines, --smoke)' if args.smoke else ''}: {model['rows']:,} "
        f"buyers, horizon {t.horizon_days} d from the purchase gaps, test cut-off {t.cutoff}, "
        f"{model['positive_rate']:.1%} churned; fit and evaluation {seconds:.1f} s"
    )
    strict = all(c + timedelta(days=t.horizon_days) <= t.cutoff for c in t.fit_cutoffs)
    print(f"strict: every training label window ends before the test cut-off: {strict}")
    rows = (
        ("ROC-AUC", model["roc_auc"], peer["roc_auc"], "BG/NBD expected purchases"),
        ("PR-AUC", model["pr_auc"], peer["pr_auc"], "BG/NBD expected purchases"),
        ("top-decile lift", model["top_decile_lift"], peer["top_decile_lift"], "BG/NBD"),
    )
    print(f"{'metric':<16} {'memberlens':>10} {'peer':>10} {'ratio':>7}  peer")
    for name, ours, theirs, who in rows:
        print(f"{name:<16} {ours:>10.4f} {theirs:>10.4f} {ours / theirs:>7.3f}  {who}")
    mae, naive = nxt["mae_days"], nxt["naive_mae_days"]
    print(
        f"{'next purchase':<16} {mae:>8} d {naive:>8} d {mae / naive:>7.3f}  the buyer's mean "
        f"gap (MAE over {nxt['members']:,} buyers; lower is better)"
    )
    print(
        f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, load average {os.getloadavg()[0]:.2f}"
    )
    framed = strict and not t.overlap and model["rows"] == peer["rows"] == customers
    if not framed:
        raise SystemExit(
            f"comparison NOT held: {model['rows']} buyers scored by the model, {peer['rows']} "
            f"by BG/NBD, {customers} customers in the file; strict windows: {strict}"
        )
    if args.smoke:
        print(
            f"comparison held: both scored on the same {customers:,} buyers (every customer of "
            "the file), strict windows; which ranks better is measured at full size"
        )
        return
    beats = model["roc_auc"] > peer["roc_auc"] and model["pr_auc"] > peer["pr_auc"]
    if not (beats and mae < naive):
        raise SystemExit("comparison NOT held: the model does not beat BG/NBD and the naive guess")
    print(
        f"comparison held: on all {customers:,} buyers the model beats BG/NBD on ROC-AUC and "
        "PR-AUC, and the naive guess on next-purchase MAE"
    )


if __name__ == "__main__":
    main()
