"""``memberlens tags ...``: check the tag book, list tags with their coverage, find unused ones."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table as RichTable

from memberlens import profile
from memberlens.cli._common import JsonOpt, WorkspaceOpt, out, print_json
from memberlens.core.settings import load_settings
from memberlens.workspace import Workspace

tags_app = typer.Typer(
    help="Tags declared in tags.toml and interest tags (docs/tags.md).",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    app.add_typer(tags_app, name="tags")


def _book(workspace: Path) -> profile.TagBook:
    root = workspace.resolve()
    return profile.load_tag_book(root / load_settings(root).tags.file)


@tags_app.command("check")
def check_cmd(workspace: WorkspaceOpt = Path("."), json_out: JsonOpt = False) -> None:
    """Check every rule in the tags file: names, types and cycles (no data needed)."""
    book = _book(workspace)
    profile.check_tag_book(book)
    if json_out:
        print_json({"file": str(book.path), "tags": [t.to_json() for t in book.tags]})
        return
    out.print(f"{book.path}: {len(book.tags)} tags, every rule checks")


@tags_app.command("list")
def list_cmd(
    snapshots: Annotated[
        int, typer.Option("--snapshots", min=1, max=100, help="Snapshots in the trend.")
    ] = 8,
    interest: Annotated[
        int, typer.Option("--interest", min=0, help="How many interest tags to show.")
    ] = 10,
    workspace: WorkspaceOpt = Path("."),
    json_out: JsonOpt = False,
) -> None:
    """Each tag: members covered in the latest snapshot, trend, and when it was last used."""
    with Workspace.open(workspace) as ws:
        stats = profile.tag_stats(ws.warehouse, ws.state, ws.tag_book(), snapshots=snapshots)
    declared = [s for s in stats if s.kind == "rule"]
    shown = [*declared, *[s for s in stats if s.kind == "interest"][:interest]]
    if json_out:
        print_json([s.to_json() for s in shown])
        return
    grid = RichTable("tag", "category", "owner", "members", "share", "trend", "last used")
    for s in shown:
        grid.add_row(
            s.name,
            s.category,
            s.owner,
            f"{s.members:,}",
            f"{s.share:.1%}",
            " ".join(f"{n:,}" for _, n in s.trend),
            s.last_used_at.isoformat(sep=" ", timespec="minutes") if s.last_used_at else "never",
        )
    out.print(grid)


@tags_app.command("unused")
def unused_cmd(
    days: Annotated[
        int, typer.Option("--days", min=1, help="Unused = not read by any definition this long.")
    ] = 90,
    workspace: WorkspaceOpt = Path("."),
    json_out: JsonOpt = False,
) -> None:
    """Declared tags no segment, campaign, journey or other tag has read lately."""
    with Workspace.open(workspace) as ws:
        stats = profile.tag_stats(ws.warehouse, ws.state, ws.tag_book(), snapshots=1)
    unused = profile.unused_tags(stats, days=days)
    if json_out:
        print_json([s.to_json() for s in unused])
        return
    if not unused:
        out.print(f"every tag was used in the last {days} days")
        return
    for s in unused:
        when = s.last_used_at.date().isoformat() if s.last_used_at else "never used"
        out.print(f"{s.name}  ({s.members:,} members; {when}) - {s.description}")
    out.print(f"{len(unused)} tags unused for {days} days: retire them from tags.toml")
