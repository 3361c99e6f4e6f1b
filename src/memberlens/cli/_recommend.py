"""``memberlens recommend ...``: offline evaluation, and what the API serves now."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table as RichTable

from memberlens import online, recommend
from memberlens.cli._common import JsonOpt, QuietOpt, WorkspaceOpt, out, print_json, stages
from memberlens.core.errors import UsageError
from memberlens.core.settings import load_settings
from memberlens.workspace import Workspace, open_state

recommend_app = typer.Typer(
    help="Recommendations: offline evaluation, and the lists members are served now; "
    "see docs/recommendations.md.",
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
    register: Annotated[
        bool,
        typer.Option(
            "--register/--no-register",
            help="Make the default (with its winning settings) what `auto` means in "
            "recommend.toml: the production `recommender` model.",
        ),
    ] = True,
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
        # the catalogue's text and names, for content similarity and reasons
        products = (
            recommend.load_products(ws.warehouse, data)
            if ws.warehouse.has_table("products")
            else None
        )
        found = recommend.evaluate(
            data,
            split=split,
            test_ratio=test_ratio,
            seed=seed,
            cutoff_day=cutoff_day,
            k=k,
            keep_seen=keep_seen,
            algorithms=names,
            products=products,
            memory_budget=ws.settings.recommend.budget_bytes(),
        )
        if register:
            entry = recommend.register_evaluation(ws.state, ws.root, found, data)
            found["registered"] = {"name": entry.name, "version": entry.version}
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
    for name, why in (found.get("skipped") or {}).items():
        out.print(f"skipped {name} ({why['code']}): {why['reason']}")
    if found.get("registered"):
        entry = found["registered"]
        out.print(
            f"registered as {entry['name']} v{entry['version']}: the next refresh uses it "
            'where recommend.toml says algorithm = "auto"'
        )


ScenarioOpt = Annotated[
    str | None, typer.Option("--scenario", help="A scenario of recommend.toml.")
]
KOpt = Annotated[
    int | None, typer.Option("--k", min=1, max=200, help="How many (default: the scenario's k).")
]


@recommend_app.command("show")
def show_cmd(
    member_id: Annotated[str, typer.Argument(help="A member id (memberlens's own).")],
    scenario: ScenarioOpt = None,
    k: KOpt = None,
    workspace: WorkspaceOpt = Path("."),
    json_out: JsonOpt = False,
) -> None:
    """A member's recommendations as the API serves them now: the published list with
    consent, stock and just-bought applied. Reads only the state database, so it works
    while a server holds the workspace."""
    _serve(workspace, json_out, "member", member_id=member_id, scenario=scenario, k=k)


@recommend_app.command("similar")
def similar_cmd(
    product_id: Annotated[str, typer.Argument(help="A product id.")],
    scenario: ScenarioOpt = None,
    k: KOpt = None,
    workspace: WorkspaceOpt = Path("."),
    json_out: JsonOpt = False,
) -> None:
    """A product's similar items as the API serves them (an item scenario's list,
    out-of-stock items left out). Reads only the state database."""
    _serve(workspace, json_out, "item", product_id=product_id, scenario=scenario, k=k)


def _serve(workspace: Path, json_out: bool, anchor: str, **ask: Any) -> None:
    """Answer as the API would, from the state database alone."""
    root = workspace.resolve()
    settings = load_settings(root)
    scenarios = recommend.load_scenarios(root / settings.recommend.file)
    ask["scenario"] = ask["scenario"] or _first(scenarios, anchor)
    state = open_state(root)
    try:
        if anchor == "member":
            served = online.recommendations_now(state, scenarios, consent=settings.consent, **ask)
        else:
            served = online.similar_now(state, scenarios, **ask)
    except ValueError as exc:  # an unknown scenario, or one of the other kind
        raise UsageError(str(exc)) from None
    finally:
        state.close()
    _show(served.to_json(), json_out)


def _first(scenarios: recommend.Scenarios, anchor: str) -> str:
    for name, scenario in scenarios.scenarios.items():
        if scenario.anchor == anchor:
            return name
    raise UsageError(
        f"{scenarios.origin} declares no {anchor} scenario; add one or pass --scenario"
    )


def _show(served: dict[str, Any], json_out: bool) -> None:
    if json_out:
        print_json(served)
        return
    kind = "personalised" if served["personalised"] else "not personalised"
    lists = ", ".join(served["lists"]) or "none published: run `memberlens refresh`"
    out.print(f"{served['scenario']}: {kind} (consent {served['consent_code']}); list {lists}")
    grid = RichTable("#", "product", "name", "category", "score", "reason")
    for item in served["items"]:
        grid.add_row(
            str(item["rank"]),
            item["product_id"],
            item["name"],
            item["category"],
            f"{item['score']:.4g}",
            item["reason"],
        )
    out.print(grid)
