"""``memberlens user ...`` and ``memberlens audit ...``."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table as RichTable

from memberlens import accounts, audit
from memberlens.accounts import NewSecret
from memberlens.cli._common import JsonOpt, WorkspaceOpt, err, out, print_json
from memberlens.workspace import Workspace

user_app = typer.Typer(
    help="Console users: add, list, disable, reset passwords.", no_args_is_help=True
)
audit_app = typer.Typer(
    help="The audit trail of changes and of views of personal data.", no_args_is_help=True
)
ROLES = ", ".join(r.value for r in accounts.Role)


def register(app: typer.Typer) -> None:
    app.add_typer(user_app, name="user")
    app.add_typer(audit_app, name="audit")


def cli_actor() -> str:
    """Who runs a local command: the operating-system user, marked as coming from the CLI."""
    try:
        return f"cli:{getpass.getuser()}"
    except OSError:
        return "cli"


def show_secret(secret: NewSecret, what: str) -> None:
    out.print(f"{what} for {secret.subject}: [bold]{secret.secret}[/bold]")
    err.print("It is shown once and stored only as a hash: note it now.")


@user_app.command("add")
def add(
    email: Annotated[str, typer.Argument(help="Login e-mail.")],
    role: Annotated[str, typer.Option(help=f"One of: {ROLES}.")] = "viewer",
    name: Annotated[str | None, typer.Option(help="Display name.")] = None,
    workspace: WorkspaceOpt = Path("."),
    json_out: JsonOpt = False,
) -> None:
    """Add a user with a generated password (shown once)."""
    with Workspace.open(workspace) as ws:
        user, secret = accounts.create_user(
            ws.state, email=email, role=role, actor=cli_actor(), display_name=name
        )
    if json_out:
        print_json(
            {
                "user_id": user.user_id,
                "email": user.email,
                "role": user.role.value,
                "password": secret.secret if secret else None,
            }
        )
    elif secret:
        show_secret(secret, f"password ({user.role.value})")


@user_app.command("list")
def list_(workspace: WorkspaceOpt = Path("."), json_out: JsonOpt = False) -> None:
    """List users and their roles."""
    with Workspace.open(workspace) as ws:
        users = accounts.list_users(ws.state)
    if json_out:
        print_json(
            [
                {
                    "user_id": u.user_id,
                    "email": u.email,
                    "role": u.role.value,
                    "disabled": u.disabled,
                }
                for u in users
            ]
        )
        return
    grid = RichTable("user", "e-mail", "role", "status")
    for u in users:
        grid.add_row(u.user_id, u.email, u.role.value, "disabled" if u.disabled else "active")
    out.print(grid)


@user_app.command("disable")
def disable(
    email: Annotated[str, typer.Argument(help="Login e-mail.")], workspace: WorkspaceOpt = Path(".")
) -> None:
    """Disable a user: they can no longer log in."""
    with Workspace.open(workspace) as ws:
        user = accounts.disable_user(ws.state, email=email, actor=cli_actor())
    out.print(f"{user.email} is disabled")


@user_app.command("reset-password")
def reset(
    email: Annotated[str, typer.Argument(help="Login e-mail.")], workspace: WorkspaceOpt = Path(".")
) -> None:
    """Give a user a new generated password (shown once) and lift a lockout."""
    with Workspace.open(workspace) as ws:
        secret = accounts.reset_password(ws.state, email=email, actor=cli_actor())
    show_secret(secret, "new password")


@audit_app.command("verify")
def verify(workspace: WorkspaceOpt = Path("."), json_out: JsonOpt = False) -> None:
    """Check that no audit entry was edited or deleted (exit code 1 if one was)."""
    with Workspace.open(workspace) as ws:
        report = audit.verify_chain(ws.state)
    if json_out:
        print_json(
            {
                "ok": report.ok,
                "entries": report.entries,
                "code": report.code,
                "broken_at": report.broken_at,
                "message": report.message,
            }
        )
    else:
        out.print(f"{report.entries:,} entries: {report.message}")
    if not report.ok:
        raise typer.Exit(1)
