"""``memberlens segment ...``: segments and basket analysis (docs/segments.md)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table as RichTable

from memberlens import protection, segment
from memberlens.cli._common import JsonOpt, WorkspaceOpt, out, print_json
from memberlens.cli._users import cli_actor
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


def _catalogue_for(ws: Workspace) -> segment.CatalogueFor:
    book = ws.tag_book()
    return lambda names: segment.segment_catalogue(book, names)


def _rule_text(rule: str | None, rule_file: Path | None) -> str:
    if (rule is None) == (rule_file is None):
        raise typer.BadParameter("give the rule as an argument or with --file, not both")
    if rule_file is not None:
        return rule_file.read_text(encoding="utf-8")
    return str(rule)


RuleArg = Annotated[
    str | None,
    typer.Argument(
        help="A rule (docs/rules.md), e.g. 'tier = \"Gold\" and purchased(within: 30d)'."
    ),
]
FileOpt = Annotated[
    Path | None,
    typer.Option("--file", exists=True, dir_okay=False, help="Read the rule from this file."),
]


@segment_app.command("preview")
def preview_cmd(
    rule: RuleArg = None,
    rule_file: FileOpt = None,
    sample: Annotated[
        int, typer.Option("--sample", min=0, max=1000, help="Member ids shown.")
    ] = 10,
    workspace: WorkspaceOpt = Path("."),
    json_out: JsonOpt = False,
) -> None:
    """Count the members a rule selects in the newest snapshot, and show a few."""
    text = _rule_text(rule, rule_file)
    with Workspace.open(workspace) as ws:
        found = segment.preview_segment(
            ws.warehouse, ws.state, text, settings=ws.settings.segments, book=ws.tag_book(),
            sample=sample,
        )  # fmt: skip
    if json_out:
        print_json(found.to_json())
        return
    share = found.members / found.of if found.of else 0.0
    out.print(
        f"{found.members:,} of {found.of:,} members ({share:.1%}) on "
        f"{found.snapshot_date.isoformat()}"
    )
    for member_id in found.sample:
        out.print(f"  {member_id}")


@segment_app.command("save")
def save_cmd(
    name: Annotated[str, typer.Argument(help="The segment's name: lower case, digits, _.")],
    rule: RuleArg = None,
    rule_file: FileOpt = None,
    description: Annotated[str, typer.Option("--description", help="What it is for.")] = "",
    owner: Annotated[str, typer.Option("--owner", help="Who to ask before changing it.")] = "",
    workspace: WorkspaceOpt = Path("."),
    json_out: JsonOpt = False,
) -> None:
    """Save a segment (or a new rule for one) and count its members in the newest
    snapshot now; every refresh computes it again."""
    text = _rule_text(rule, rule_file)
    with Workspace.open(workspace) as ws:
        segment.save_segment(
            ws.state, _catalogue_for(ws), name=name, rule=text, actor=cli_actor(),
            description=description, owner=owner,
        )  # fmt: skip
        saved = segment.compute_saved_segment(
            ws.warehouse, ws.state, name, settings=ws.settings.segments, book=ws.tag_book()
        )
    if json_out:
        print_json(saved.to_json())
        return
    if saved.members is None:
        out.print(f"saved segment {saved.name}; `memberlens refresh` computes its members")
        return
    out.print(f"saved segment {saved.name}: {saved.members:,} members on {saved.snapshot_date}")


@segment_app.command("list")
def list_cmd(workspace: WorkspaceOpt = Path("."), json_out: JsonOpt = False) -> None:
    """Saved segments with their size in the newest snapshot and the trend."""
    with Workspace.open(workspace) as ws:
        found = segment.list_segments(ws.state, warehouse=ws.warehouse)
    if json_out:
        print_json([s.to_json() for s in found])
        return
    if not found:
        out.print("no segment saved yet: `memberlens segment save NAME RULE`")
        return
    grid = RichTable("segment", "members", "snapshot", "trend", "rule")
    for s in found:
        grid.add_row(
            s.name,
            "—" if s.members is None else f"{s.members:,}",
            s.snapshot_date.isoformat() if s.snapshot_date else "not computed yet",
            " ".join(f"{n:,}" for _, n in s.trend[-8:]),
            s.rule,
        )
    out.print(grid)


@segment_app.command("members")
def members_cmd(
    name: Annotated[str, typer.Argument(help="A saved segment.")],
    changes: Annotated[
        bool, typer.Option("--changes", help="Who entered and exited, snapshot by snapshot.")
    ] = False,
    limit: Annotated[int, typer.Option("--limit", min=1, help="At most this many rows.")] = 1000,
    workspace: WorkspaceOpt = Path("."),
    json_out: JsonOpt = False,
) -> None:
    """A saved segment's members in the newest snapshot, or its entries and exits."""
    with Workspace.open(workspace) as ws:
        found = segment.segment_membership(
            ws.warehouse, ws.state, name, changes=changes, limit=limit
        )
    if json_out:
        print_json(found)
        return
    if changes:
        for row in found["changes"]:
            out.print(f"{row['snapshot_date']}  {row['change']:<7}  {row['member_id']}")
        return
    out.print(f"{found['members']:,} members on {found['snapshot_date']}")
    for member_id in found["member_ids"]:
        out.print(member_id)


@segment_app.command("delete")
def delete_cmd(
    name: Annotated[str, typer.Argument(help="A saved segment.")],
    workspace: WorkspaceOpt = Path("."),
) -> None:
    """Forget a segment's definition (past snapshots stay); refused while others read it."""
    with Workspace.open(workspace) as ws:
        segment.delete_segment(ws.state, name)
    out.print(f"deleted segment {name}")


@segment_app.command("rfm")
def rfm_cmd(workspace: WorkspaceOpt = Path("."), json_out: JsonOpt = False) -> None:
    """The RFM grid of the newest snapshot: members per named segment, with definitions."""
    with Workspace.open(workspace) as ws:
        found = segment.rfm_summary(ws.warehouse)
    if json_out:
        print_json(found)
        return
    out.print(f"RFM on {found['snapshot_date']}: {found['members']:,} members who bought")
    grid = RichTable("segment", "members", "share", "R", "FM", "meaning")
    for s in found["segments"]:
        grid.add_row(
            s["name"], f"{s['members']:,}", f"{s['share']:.1%}",
            "{}-{}".format(*s["r"]), "{}-{}".format(*s["fm"]), s["description"],
        )  # fmt: skip
    out.print(grid)


@segment_app.command("lifecycle")
def lifecycle_cmd(workspace: WorkspaceOpt = Path("."), json_out: JsonOpt = False) -> None:
    """Members per lifecycle stage in the newest snapshot, and the flow from the one before."""
    with Workspace.open(workspace) as ws:
        found = segment.lifecycle_summary(ws.warehouse, ws.settings.segments)
    if json_out:
        print_json(found)
        return
    out.print(f"lifecycle on {found['snapshot_date']} (before: {found['previous'] or 'none'})")
    for s in found["stages"]:
        out.print(f"  {s['stage']:<10} {s['members']:>10,}   {s['rule']}")
    if found["flow"]:
        out.print("flow:")
        for f in found["flow"]:
            out.print(
                f"  {f['from'] or '(new)':<10} -> {f['to'] or '(gone)':<10} {f['members']:>10,}"
            )


@segment_app.command("clusters")
def clusters_cmd(workspace: WorkspaceOpt = Path("."), json_out: JsonOpt = False) -> None:
    """The newest clustering: k chosen by silhouette, and each cluster's profile and name."""
    with Workspace.open(workspace) as ws:
        found = segment.cluster_summary(ws.warehouse)
    if json_out:
        print_json({k: v for k, v in found.items() if k != "points"})
        return
    best = found["silhouettes"][str(found["k"])]
    out.print(
        f"{found['k']} clusters on {found['snapshot_date']} (silhouette {best:.3f}) "
        f"over {', '.join(found['features'])}"
    )
    grid = RichTable("#", "name", "members", "share", "money", "most distinctive (z)")
    for c in found["clusters"]:
        grid.add_row(
            str(c["cluster_id"]),
            c["name"],
            f"{c['size']:,}",
            f"{c['share']:.1%}",
            f"{c['value_share']:.1%}",
            ", ".join(f"{f} {z:+.1f}" for f, z in c["distinctive"]),
        )
    out.print(grid)


class Contacts(StrEnum):
    none = "none"
    masked = "masked"
    hashed = "hashed"


@segment_app.command("export")
def export_cmd(
    name: Annotated[str, typer.Argument(help="A saved segment.")],
    out_file: Annotated[Path, typer.Option("--out", help="The CSV file to write.")],
    contacts: Annotated[
        Contacts,
        typer.Option(
            "--contacts",
            help="none: ids only; masked: a***@example.com, 138****5678; hashed: SHA-256 "
            "of the normalised e-mail and phone (audience matching). Never clear.",
        ),
    ] = Contacts.masked,
    workspace: WorkspaceOpt = Path("."),
    json_out: JsonOpt = False,
) -> None:
    """Write a saved segment's members (newest snapshot) to CSV; every export is audited."""
    with Workspace.open(workspace) as ws:
        report = protection.export_segment(
            ws, name, out_file, contacts=contacts.value, actor=cli_actor()
        )
    if json_out:
        print_json(report)
        return
    out.print(
        f"wrote {report['rows']:,} members of {name} ({report['snapshot_date']}, contacts "
        f"{contacts.value}) to {out_file}"
    )
