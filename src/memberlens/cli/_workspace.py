"""``memberlens init`` and ``memberlens schema``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from memberlens import accounts
from memberlens.accounts import NewSecret
from memberlens.cli._common import JsonOpt, out, print_json
from memberlens.cli._users import cli_actor, show_secret
from memberlens.schema import RAW_TABLES, data_model_markdown
from memberlens.workspace import Workspace, init_workspace


def register(app: typer.Typer) -> None:
    app.command("init")(init)
    app.command("schema")(schema)


def init(
    directory: Annotated[Path, typer.Argument(help="Where to create the workspace.")] = Path("."),
    name: Annotated[str | None, typer.Option(help="Display name (default: folder name).")] = None,
    admin_email: Annotated[
        str | None,
        typer.Option(
            help="Create the first admin (password from MEMBERLENS_ADMIN_PASSWORD, "
            "else generated and printed once)."
        ),
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Create a workspace: memberlens.toml, data/warehouse.duckdb, data/state.db, a key ring."""
    key_file, created = init_workspace(directory, name=name)
    root = directory.resolve()
    secret = _first_admin(root, admin_email) if admin_email else None
    if json_out:
        print_json(
            {
                "workspace": str(root),
                "created": created,
                "key_file": str(key_file),
                "admin_password": secret.secret if secret else None,
            }
        )
        return
    if secret:
        show_secret(secret, "admin password")
    verb = "created" if created else "already exists; checked"
    out.print(f"workspace {root} {verb}")
    out.print(f"  settings   {root / 'memberlens.toml'}")
    out.print(f"  warehouse  {root / 'data' / 'warehouse.duckdb'}")
    out.print(f"  state      {root / 'data' / 'state.db'}")
    out.print(f"  key ring   {key_file}  (outside the workspace: back it up)")
    out.print(f"next: memberlens ingest members FILE --workspace {directory}")


def _first_admin(root: Path, email: str) -> NewSecret | None:
    """The first admin; never prompts, so scripts and CI cannot hang."""
    password = os.environ.get("MEMBERLENS_ADMIN_PASSWORD") or None
    with Workspace.open(root) as ws:
        _, secret = accounts.create_user(
            ws.state, email=email, role="admin", actor=cli_actor(), password=password
        )
    return secret


def schema(
    table: Annotated[str | None, typer.Argument(help="One table (default: all).")] = None,
    markdown: Annotated[bool, typer.Option("--markdown", help="Print as Markdown.")] = False,
    json_out: JsonOpt = False,
) -> None:
    """Show the canonical data model: tables, columns, types, keys, checks."""
    from memberlens.core.errors import UsageError

    if table is not None and table not in RAW_TABLES:
        raise UsageError(f"unknown table '{table}'; choose one of: {', '.join(RAW_TABLES)}")
    tables = [RAW_TABLES[table]] if table else list(RAW_TABLES.values())
    if json_out:
        print_json(
            {
                t.name: {
                    "key": list(t.key),
                    "columns": [
                        {
                            "name": c.name,
                            "type": c.type.value,
                            "required": c.required,
                            "personal": c.personal,
                            "description": c.description,
                        }
                        for c in t.columns
                    ],
                }
                for t in tables
            }
        )
    elif markdown:
        typer.echo(data_model_markdown(tables))
    else:
        for t in tables:
            out.print(f"[bold]{t.name}[/bold]  key ({', '.join(t.key)})  {t.description}")
            for c in t.columns:
                marks = ("*" if c.personal else "") + (" required" if c.required else "")
                out.print(f"  {c.name:<20} {c.type.value:<9} {marks:<10} {c.description}")
