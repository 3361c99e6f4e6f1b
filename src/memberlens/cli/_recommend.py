"""``memberlens recommend ...``: offline evaluation of the recommenders."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table as RichTable

from memberlens import recommend
from memberlens.cli._common import JsonOpt, QuietOpt, WorkspaceOpt, out, print_json, stages
from memberlens.core.errors import UsageError
from memberlens.workspace import Workspace

recommend_app = typer.Typer(
    help="Recommendations: offline evaluation of the algorithms; see docs/recommendations.md.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    app.add_typer(recommend_app, name="recommend")


_SHOWN = ("ndcg", "precision", "recall", "map", "hit_rate", "coverage", "diversity",
          "novelty", "personalization")  # fmt: skip


@recommend_app.command("evaluate")
def evaluate_cmd(
    split: Annotated[
        str, typer.Option("--split", help="stratified, last (leave-last-out) or time.")
    ] = "stratified",
    test_ratio: Annotated[
        float,
        typer.Option("--test-ratio", help="Share of each user's items held out (stratified)."),
    ] = 0.25,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the split and the bootstrap.")] = 42,
    cutoff: Annotated[
        str | None, typer.Option("--cutoff", help="First day tested, YYYY-MM-DD (--split time).")
    ] = None,
    k: Annotated[int, typer.Option("--k", min=1, max=1000, help="List length.")] = 10,
    keep_seen: Annotated[
        bool, typer.Option("--keep-seen", help="Allow items seen in training to be recommended.")
    ] = False,
    algorithms: Annotated[
        str | None,
        typer.Option("--algorithms", help="Comma-separated names (default: all)."),
    ] = None,
    workspace: WorkspaceOpt = Path("."),
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Score every algorithm on held-out interactions, with 95% bootstrap intervals;
    the default is chosen on a validation split carved from the training part."""
    cutoff_day = None
    if cutoff is not None:
        try:
            cutoff_day = recommend.day_number(datetime.strptime(cutoff, "%Y-%m-%d").date())
        except ValueError:
            raise UsageError(f"--cutoff {cutoff!r} is not a date; write it as YYYY-MM-DD") from None
    names = [n.strip() for n in algorithms.split(",") if n.strip()] if algorithms else None
    with Workspace.open(workspace) as ws, stages("evaluate", quiet=quiet or json_out) as say:
        say("interactions")
        data = recommend.load_interactions(ws.warehouse)
        say(f"{len(data):,} records, {len(data.users):,} members, {len(data.items):,} items")
        found = recommend.evaluate(
            data,
            split=split,
            test_ratio=test_ratio,
            seed=seed,
            cutoff_day=cutoff_day,
            k=k,
            keep_seen=keep_seen,
            algorithms=names,
        )
    if json_out:
        print_json(found)
        return
    _print(found)


def _print(found: dict[str, Any]) -> None:
    described = found["split"]
    out.print(
        f"split {described['kind']}: {described['test_users']:,} test users, "
        f"{described['test_items']:,} held-out items; metrics @{found['k']}"
    )
    grid = RichTable("algorithm", "ndcg [95% interval]", *_SHOWN[1:], "fit s")
    for name, s in found["algorithms"].items():
        low, high = s["ci"].get("ndcg", (s["ndcg"], s["ndcg"]))
        grid.add_row(
            name + (" *" if name == found["default"] else ""),
            f"{s['ndcg']:.4f} [{low:.4f}, {high:.4f}]",
            *["—" if s.get(m) is None else f"{s[m]:.4f}" for m in _SHOWN[1:]],
            f"{s['fit_seconds']:.2f}",
        )
    out.print(grid)
    for name, gain in (found.get("versus_popularity") or {}).items():
        out.print(
            f"{name} vs popularity, NDCG: {gain['mean']:+.4f} "
            f"(95% interval {gain['low']:+.4f} .. {gain['high']:+.4f})"
        )
    out.print(
        f"* default: {found['default']} (best NDCG on a validation split of the training part)"
    )
