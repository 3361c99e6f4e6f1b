"""``memberlens serve`` and ``memberlens token ...``."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer

from memberlens import accounts
from memberlens.cli._common import JsonOpt, WorkspaceOpt, out, print_json
from memberlens.cli._users import cli_actor, show_secret
from memberlens.workspace import Workspace

token_app = typer.Typer(help="API tokens for applications.", no_args_is_help=True)
SCOPES = ", ".join(s.value for s in accounts.Scope)


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)
    app.add_typer(token_app, name="token")


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    workspace: WorkspaceOpt = Path("."),
) -> None:
    """Run the API and the job runner; the server holds the workspace until it stops.

    Ctrl-C stops it gracefully: requests in flight finish and accepted events are
    flushed into the warehouse first.
    """
    import uvicorn  # the server's own dependency: load it only here

    from memberlens.cli._hosted import route_streams, run_hosted
    from memberlens.service import create_app

    route_streams()
    app = create_app(workspace.resolve(), url=f"http://{host}:{port}", commands=run_hosted)
    out.print(f"memberlens API on http://{host}:{port}/api/v1 (docs: /api/v1/docs)")
    uvicorn.run(app, host=host, port=port, log_level="info", timeout_graceful_shutdown=30)


@token_app.command("create")
def create(
    name: Annotated[str, typer.Argument(help="What the token is for, e.g. 'web shop'.")],
    scope: Annotated[list[str], typer.Option(help=f"Repeat for each scope: {SCOPES}.")],
    days: Annotated[int, typer.Option(min=1, help="Days until it expires.")] = 365,
    workspace: WorkspaceOpt = Path("."),
    json_out: JsonOpt = False,
) -> None:
    """Create an API token (shown once; only its hash is kept)."""
    with Workspace.open(workspace) as ws:
        info, secret = accounts.create_token(
            ws.state, name=name, scopes=scope, actor=cli_actor(), valid_for=timedelta(days=days)
        )
    if json_out:
        print_json(
            {
                "token_id": info.token_id,
                "name": info.name,
                "token": secret.secret,
                "scopes": sorted(info.scopes),
                "expires_at": info.expires_at.isoformat() if info.expires_at else None,
            }
        )
    else:
        show_secret(secret, f"API token {info.token_id} ({', '.join(sorted(info.scopes))})")


@token_app.command("revoke")
def revoke(
    token_id: Annotated[str, typer.Argument(help="The token's id (tok_...).")],
    workspace: WorkspaceOpt = Path("."),
) -> None:
    """Revoke an API token at once."""
    with Workspace.open(workspace) as ws:
        accounts.revoke_token(ws.state, token_id=token_id, actor=cli_actor())
    out.print(f"{token_id} revoked")
