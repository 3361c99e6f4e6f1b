"""``memberlens privacy keys | rotate-key | retire-key`` and ``memberlens export``.

While a server holds the workspace these go through its admin API, so that the
server's own key ring changes with the key file and imports keep running between the
rotation's batches (no downtime).
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from memberlens import protection
from memberlens.cli._common import JsonOpt, QuietOpt, WorkspaceOpt, err, out, print_json
from memberlens.cli._remote import Remote, remote_for
from memberlens.cli._users import cli_actor
from memberlens.core.errors import UsageError, WorkspaceError
from memberlens.privacy import ExportRequest
from memberlens.workspace import Workspace

privacy_app = typer.Typer(
    help="Key ring: key usage, rotation and retirement (see docs/security.md).",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    app.add_typer(privacy_app, name="privacy")
    app.command("export")(export)


def _open(workspace: Path) -> Workspace | Remote:
    """The workspace, or the server that holds it."""
    try:
        return Workspace.open(workspace)
    except WorkspaceError as locked:
        return remote_for(workspace, locked)


@privacy_app.command("keys")
def keys(workspace: WorkspaceOpt = Path("."), json_out: JsonOpt = False) -> None:
    """List the key ring's keys and how many stored values each one encrypts."""
    ws = _open(workspace)
    if isinstance(ws, Remote):
        status = ws.call("GET", "/privacy/keys")
    else:
        with ws:
            status = protection.key_status(ws)
    if json_out:
        print_json(status)
        return
    for key in status["keys"]:
        mark = "active" if key["active"] else "old"
        out.print(f"{key['key_id']}  {mark:6}  {key['values']:,} values")
    if status["rotation_in_progress"]:
        out.print(
            f"a rotation to {status['rotation_in_progress']} is unfinished: "
            "run `memberlens privacy rotate-key` to finish it"
        )
    out.print(f"keys from: {status['key_source']}")


@privacy_app.command("rotate-key")
def rotate_key(
    batch_rows: Annotated[
        int, typer.Option(min=1, help="Rows per batch (each batch is one transaction).")
    ] = 5_000,
    workspace: WorkspaceOpt = Path("."),
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Make a new key active and re-encrypt every personal value and blind index under it.

    New writes use the new key at once; searches keep working throughout. An
    interrupted rotation is resumed by running the command again. Back up the key
    file afterwards; retire the old key with `memberlens privacy retire-key`.
    """
    ws = _open(workspace)
    if isinstance(ws, Remote):
        report = ws.call("POST", "/privacy/rotate-key", {"batch_rows": batch_rows})
    else:
        with ws, _bar(quiet) as bar:
            task = bar.add_task("re-encrypting", total=None) if bar else None

            def on_total(n: int) -> None:
                if bar and task is not None:
                    bar.update(task, total=n)

            def progress(n: int) -> None:
                if bar and task is not None:
                    bar.advance(task, n)

            done = protection.rotate_key(
                ws, actor=cli_actor(), batch_rows=batch_rows, on_total=on_total, progress=progress
            )
            report = done.to_json()
    if json_out:
        print_json(report)
        return
    verb = "resumed and finished" if report["resumed"] else "finished"
    out.print(
        f"rotation to key {report['key_id']} {verb}: {report['values']:,} rows re-encrypted "
        f"in {report['seconds']:.1f} s"
    )
    out.print("back up the key file now; then retire old keys with `memberlens privacy retire-key`")


def _bar(quiet: bool) -> AbstractContextManager[Progress | None]:
    if quiet or not err.is_terminal:
        return nullcontext()
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    return Progress(*columns, console=err)


@privacy_app.command("retire-key")
def retire_key(
    key_id: Annotated[
        str, typer.Argument(help="The old key's id (see `memberlens privacy keys`).")
    ],
    workspace: WorkspaceOpt = Path("."),
    json_out: JsonOpt = False,
) -> None:
    """Remove an old key from the key ring; refused while any stored value uses it."""
    ws = _open(workspace)
    if isinstance(ws, Remote):
        result = ws.call("POST", "/privacy/retire-key", {"key_id": key_id})
    else:
        with ws:
            result = protection.retire_key(ws, key_id, actor=cli_actor())
    if json_out:
        print_json(result)
        return
    out.print(f"key {key_id} retired; the ring holds {', '.join(result['keys'])}")
    out.print("back up the key file now: backups made before still hold the retired key")


def export(
    table: Annotated[str, typer.Argument(help="A raw table: members, orders, events, ...")],
    pseudonymize: Annotated[
        bool,
        typer.Option(
            "--pseudonymize",
            help="Salted hashed member ids, no direct identifiers, generalised "
            "quasi-identifiers, and the smallest group size k.",
        ),
    ] = False,
    out_file: Annotated[
        Path | None,
        typer.Option("--out", "-o", help="File to write, .csv or .parquet (default: a CSV here)."),
    ] = None,
    quasi: Annotated[
        str | None,
        typer.Option(
            help="Comma-separated quasi-identifiers (default: age_band,gender,city,region)."
        ),
    ] = None,
    k_target: Annotated[
        int, typer.Option("--k", min=2, help="Smallest group size to reach; warn below it.")
    ] = 5,
    stable_salt: Annotated[
        bool,
        typer.Option(
            "--stable-salt",
            help="Same pseudonyms in every export until the next key rotation "
            "(default: a fresh salt per export, so two extracts cannot be joined).",
        ),
    ] = False,
    workspace: WorkspaceOpt = Path("."),
    json_out: JsonOpt = False,
) -> None:
    """Write an analytics extract of a raw table, audited.

    Without --pseudonymize only tables without personal columns can be exported.
    """
    if not pseudonymize and (quasi or stable_salt):
        raise UsageError("--quasi and --stable-salt need --pseudonymize")
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    target = (out_file or Path(f"{table}-{stamp}.csv")).resolve()
    names = [q.strip() for q in quasi.split(",") if q.strip()] if quasi else None
    body: dict[str, Any] = {
        "table": table,
        "out": str(target),
        "pseudonymize": pseudonymize,
        "quasi": names,
        "k_target": k_target,
        "salt": "workspace" if stable_salt else "export",
    }
    ws = _open(workspace)
    if isinstance(ws, Remote):
        report = ws.call("POST", "/export", body)
    else:
        request = ExportRequest(
            table=table,
            out=target,
            pseudonymize=pseudonymize,
            quasi=tuple(names) if names else None,
            k_target=k_target,
            salt="workspace" if stable_salt else "export",
        )
        with ws:
            report = protection.export(ws, request, actor=cli_actor()).to_json()
    if report["warning"]:
        err.print(f"[yellow]warning[/yellow]: {report['warning']}", soft_wrap=True)
    if json_out:
        print_json(report)
        return
    out.print(f"{report['rows']:,} rows, {len(report['columns'])} columns -> {report['file']}")
    if report["k"] is not None:
        out.print(f"k = {report['k']} over {', '.join(report['quasi_identifiers'])}")
