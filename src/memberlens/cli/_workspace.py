"""``memberlens init`` and ``memberlens schema``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from memberlens.cli._common import JsonOpt, out, print_json
from memberlens.schema import RAW_TABLES, data_model_markdown
from memberlens.workspace import init_workspace


def register(app: typer.Typer) -> None:
    app.command("init")(init)
    app.command("schema")(schema)


def init(
    directory: Annotated[Path, typer.Argument(help="Where to create the workspace.")] = Path("."),
    name: Annotated[str | None, typer.Option(help="Display name (default: folder name).")] = None,
    json_out: JsonOpt = False,
) -> None:
    """Create a workspace: memberlens.toml, data/warehouse.duckdb, data/state.db, a key ring."""
    key_file, created = init_workspace(directory, name=name)
    root = directory.resolve()
    if json_out:
        print_json({"workspace": str(root), "created": created, "key_file": str(key_file)})
        return
    verb = "created" if created else "already exists; checked"
    out.print(f"workspace {root} {verb}")
    out.print(f"  settings   {root / 'memberlens.toml'}")
    out.print(f"  warehouse  {root / 'data' / 'warehouse.duckdb'}")
    out.print(f"  state      {root / 'data' / 'state.db'}")
    out.print(f"  key ring   {key_file}  (outside the workspace: back it up)")
    out.print(f"next: memberlens ingest members FILE --workspace {directory}")


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
