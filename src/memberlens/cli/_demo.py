"""``memberlens demo``."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table as RichTable

from memberlens.cli._common import JsonOpt, QuietOpt, out, print_json, stages

if TYPE_CHECKING:
    from memberlens.demo import DemoReport


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)


def demo(
    directory: Annotated[Path, typer.Argument(help="Demo workspace folder.")] = Path("demo"),
    members: Annotated[int, typer.Option(min=100, help="Members to generate.")] = 20_000,
    seed: Annotated[int, typer.Option(help="Random seed: same seed, same data.")] = 42,
    console: Annotated[
        str, typer.Option(help="Where the console will listen, for the printed address.")
    ] = "http://127.0.0.1:8000",
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Build a demo workspace from a deterministic synthetic member base, ingest it,
    refresh it, and make one console account per role (passwords printed once)."""
    from memberlens.demo import LOAD_ORDER, run_demo  # numpy-heavy: load only when asked

    # generate, init, one stage per file, refresh, models, accounts
    with stages("demo", quiet=quiet, total=5 + len(LOAD_ORDER)) as step:
        report = run_demo(directory, members=members, seed=seed, progress=step)
    if json_out:
        print_json(_as_json(report))
    else:
        _print(report, directory, console)


def _as_json(report: DemoReport) -> dict[str, object]:
    return {
        "workspace": str(report.workspace),
        "generated": report.generated,
        "stages": {k: round(v, 3) for k, v in report.stages.items()},
        "imports": [r.to_json() for r in report.imports],
        "refresh": report.refresh,
        "accounts": [{"role": r, "email": e, "password": p} for r, e, p in report.accounts],
    }


def _print(report: DemoReport, directory: Path, console: str) -> None:
    grid = RichTable("file", "read", "loaded", "quarantined", "dupes", "orphans", "s")
    for r in report.imports:
        grid.add_row(
            Path(r.file).name,
            f"{r.read:,}",
            f"{r.loaded:,}",
            f"{r.quarantined:,}",
            f"{r.duplicates:,}",
            f"{r.orphans:,}",
            f"{r.seconds:.1f}",
        )
    out.print(grid)
    verb = "generated" if report.generated else "reused"
    out.print(
        f"sources {verb} in {report.stages.get('generate', 0.0):.1f} s "
        f"(seed {report.truth.seed}, {report.truth.persons:,} members); "
        f"init {report.stages.get('init', 0.0):.1f} s"
    )
    out.print(f"total {sum(report.stages.values()):.1f} s; workspace {report.workspace}")
    out.print(f"refresh {report.stages.get('refresh', 0.0):.1f} s")
    # Plain lines, never a table that a narrow terminal would cut: people copy these.
    out.print(
        f"console: {console} (`make demo` starts it; else `memberlens serve -w {directory}`)",
        soft_wrap=True,
    )
    out.print("log in as (passwords are new on every run):")
    for role, email, password in report.accounts:
        out.print(f"  {role:<16} {email:<32} {password}", soft_wrap=True)
    out.print("next steps:")
    out.print(f"  memberlens quality --workspace {directory}")
    out.print("  memberlens schema               # the canonical data model")
    out.print(f"  memberlens ingest orders FILE --preset cdnow --workspace {directory}")
