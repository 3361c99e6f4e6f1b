"""``memberlens identity ...``: run matching alone, undo a merge, list a member's records."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table as RichTable

from memberlens import identity
from memberlens.cli._common import JsonOpt, WorkspaceOpt, out, print_json
from memberlens.core.errors import UsageError
from memberlens.workspace import Workspace

identity_app = typer.Typer(
    help="Identity resolution: one member out of many source records (docs/identity.md).",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    app.add_typer(identity_app, name="identity")


@identity_app.command("resolve")
def resolve(workspace: WorkspaceOpt = Path("."), json_out: JsonOpt = False) -> None:
    """Match source records into members now (the refresh's first step, alone)."""
    with Workspace.open(workspace) as ws:
        result = identity.resolve(ws.warehouse, ws.state, ws.keyring, settings=ws.settings.identity)
    if json_out:
        print_json(result.to_json())
        return
    out.print(
        f"identity {result.run_id}: {result.clusters_merged:,} clusters merged, "
        f"{result.records_affected:,} records affected; members "
        f"{result.members_before:,} -> {result.members_after:,}; "
        f"{result.anonymous_linked:,} anonymous ids stitched"
    )
    if result.flagged:
        grid = RichTable("flagged (not used for matching)", "value (masked)", "records")
        for f in result.flagged:
            grid.add_row(f.id_type, f.masked, f"{f.records:,}")
        out.print(grid)


@identity_app.command("unmerge")
def unmerge(
    member_id: Annotated[
        str | None, typer.Argument(help="The surviving member of the merge to undo.")
    ] = None,
    run: Annotated[
        str | None, typer.Option("--run", help="Undo every merge of this identity run.")
    ] = None,
    workspace: WorkspaceOpt = Path("."),
    json_out: JsonOpt = False,
) -> None:
    """Restore the map the member's records had before its latest merge (or a run's)."""
    if member_id is None and run is None:
        raise UsageError("name a MEMBER_ID to unmerge, or pass --run RUN_ID")
    with Workspace.open(workspace) as ws:
        result = identity.unmerge(
            ws.warehouse,
            ws.state,
            member_id=member_id,
            run_id=run,
            source_priority=ws.settings.identity.source_priority,
        )
    if json_out:
        print_json(result.to_json())
        return
    out.print(
        f"unmerged {', '.join(result.members)}: {result.records_restored:,} records "
        f"restored ({result.run_id}); later runs keep them apart"
    )


@identity_app.command("show")
def show(
    member_id: Annotated[str, typer.Argument(help="Member id.")],
    workspace: WorkspaceOpt = Path("."),
    json_out: JsonOpt = False,
) -> None:
    """List a member's source records and their identifiers, masked."""
    with Workspace.open(workspace) as ws:
        records = identity.member_records(ws.warehouse, ws.keyring, member_id)
    if json_out:
        print_json({"member_id": member_id, "records": [r.to_json() for r in records]})
        return
    grid = RichTable("source", "key", "since (UTC)", "reason", "identifiers (masked)")
    for r in records:
        idents = ", ".join(f"{t} {v}" for t, v in r.identifiers)
        grid.add_row(r.source, r.source_member_key, r.since.isoformat(sep=" "), r.reason, idents)
    out.print(grid)
