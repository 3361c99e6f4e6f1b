"""``memberlens segment ...``: segments and basket analysis (docs/segments.md)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table as RichTable

from memberlens import segment
from memberlens.cli._common import JsonOpt, WorkspaceOpt, out, print_json
from memberlens.workspace import Workspace

segment_app = typer.Typer(
    help="Segments and basket analysis (docs/segments.md).",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    app.add_typer(segment_app, name="segment")


class ItemBy(StrEnum):
    product = "product"
    category = "category"


class BasketBy(StrEnum):
    order = "order"
    member_day = "member-day"


@segment_app.command("baskets")
def baskets(
    by: Annotated[
        ItemBy, typer.Option("--by", help="An item is a product, or its category.")
    ] = ItemBy.product,
    basket: Annotated[
        BasketBy,
        typer.Option(
            "--basket", help="A basket is one order, or one member's items on one UTC day."
        ),
    ] = BasketBy.order,
    min_support: Annotated[
        float, typer.Option("--min-support", help="Smallest share of baskets for an itemset.")
    ] = 0.001,
    min_confidence: Annotated[
        float, typer.Option("--min-confidence", help="Smallest confidence for a rule.")
    ] = 0.0,
    min_lift: Annotated[float, typer.Option("--min-lift", help="Smallest lift for a rule.")] = 1.0,
    max_len: Annotated[
        int, typer.Option("--max-len", help="Largest itemset (antecedent + consequent).")
    ] = 3,
    top: Annotated[int, typer.Option("--top", help="How many rules to print.", min=1)] = 20,
    workspace: WorkspaceOpt = Path("."),
    json_out: JsonOpt = False,
) -> None:
    """Frequent itemsets (FP-growth) and association rules, top rules by lift."""
    params = segment.BasketParams(
        by=by.value,
        basket="member_day" if basket is BasketBy.member_day else "order",
        min_support=min_support,
        min_confidence=min_confidence,
        min_lift=min_lift,
        max_len=max_len,
    )
    with Workspace.open(workspace) as ws:
        result = segment.basket_rules(ws.warehouse, params)
    if json_out:
        print_json(result.to_json(top=top))
        return
    out.print(
        f"{result.n_baskets:,} baskets, {result.n_items:,} items, "
        f"{len(result.itemsets):,} frequent itemsets, {len(result.rules):,} rules "
        f"(support >= {min_support:g}, confidence >= {min_confidence:g}, lift >= {min_lift:g})"
    )
    grid = RichTable("#", "if bought", "then", "baskets", "support", "confidence", "lift")
    for rank, r in enumerate(result.rules[:top], start=1):
        grid.add_row(
            str(rank),
            ", ".join(r.antecedent),
            ", ".join(r.consequent),
            f"{r.count:,}",
            f"{r.support:.5f}",
            f"{r.confidence:.4f}",
            f"{r.lift:.4f}",
        )
    out.print(grid)
