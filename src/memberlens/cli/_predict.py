"""``memberlens predict ...`` and ``memberlens models ...``: fit CLV, manage the registry."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table as RichTable

from memberlens import predict
from memberlens.cli._common import JsonOpt, WorkspaceOpt, err, out, print_json
from memberlens.core.errors import UsageError
from memberlens.workspace import Workspace, open_state

predict_app = typer.Typer(
    help="Predictions: lifetime value (BG/NBD + Gamma-Gamma); see docs/predictions.md.",
    no_args_is_help=True,
)
models_app = typer.Typer(
    help="The model registry: list fitted models, promote or retire versions.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    app.add_typer(predict_app, name="predict")
    app.add_typer(models_app, name="models")


def _day(value: str | None, flag: str) -> date | None:
    if value is None:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        raise UsageError(f"{flag} {value!r} is not a date; write it as YYYY-MM-DD") from None


@predict_app.command("clv")
def clv(
    calibration_end: Annotated[
        str, typer.Option("--calibration-end", help="Last day (inclusive) the model learns from.")
    ],
    holdout_end: Annotated[
        str | None,
        typer.Option("--holdout-end", help="Last day (inclusive) of the holdout check."),
    ] = None,
    time_unit: Annotated[
        str, typer.Option("--time-unit", help="day, week or month (the literature uses week).")
    ] = "week",
    horizon_months: Annotated[
        int, typer.Option("--horizon-months", min=1, max=120, help="CLV horizon in months.")
    ] = 12,
    margin: Annotated[
        float, typer.Option("--margin", min=0.0, max=1.0, help="Profit margin on revenue.")
    ] = 1.0,
    discount_rate: Annotated[
        float, typer.Option("--discount-rate", min=0.0, help="Monthly discount rate.")
    ] = 0.01,
    penalizer: Annotated[
        float, typer.Option("--penalizer", min=0.0, help="L2 penalty on the parameters.")
    ] = 0.0,
    workspace: WorkspaceOpt = Path("."),
    json_out: JsonOpt = False,
) -> None:
    """Fit BG/NBD + Gamma-Gamma on the workspace's orders and register the model."""
    if time_unit not in predict.UNIT_DAYS:
        raise UsageError(f"--time-unit {time_unit!r}: use day, week or month")
    options = predict.ClvOptions(
        time_unit=time_unit,  # type: ignore[arg-type]  # checked just above
        horizon_months=horizon_months,
        margin=margin,
        monthly_discount_rate=discount_rate,
        penalizer=penalizer,
    )
    end = _day(calibration_end, "--calibration-end")
    assert end is not None
    with Workspace.open(workspace) as ws:
        report = predict.fit_clv(
            ws.warehouse,
            ws.state,
            ws.root,
            calibration_end=end,
            holdout_end=_day(holdout_end, "--holdout-end"),
            options=options,
        )
    for warning in report.warnings:
        err.print(f"[yellow]warning[/yellow]: {warning}", soft_wrap=True)
    if json_out:
        print_json(report.to_json())
        return
    _print_clv(report)


def _print_clv(report: predict.ClvReport) -> None:
    bg = report.bgnbd
    out.print(
        f"BG/NBD on {report.members:,} members ({report.repeat_members:,} repeat buyers, "
        f"unit {report.time_unit}): r={bg['r']:.4f} alpha={bg['alpha']:.4f} "
        f"a={bg['a']:.4f} b={bg['b']:.4f} log-likelihood {bg['loglik']:.2f}"
    )
    if report.gamma_gamma:
        gg = report.gamma_gamma
        out.print(f"Gamma-Gamma: p={gg['p']:.4f} q={gg['q']:.4f} gamma={gg['gamma']:.4f}")
    if report.holdout:
        h = report.holdout
        out.print(
            f"holdout to {h.holdout_end}: predicted {h.predicted_repeat:,.1f} repeat "
            f"transactions, actual {h.actual_repeat:,}; mean absolute error {h.mae:.3f}"
        )
    m = report.model
    out.print(f"registered {m.name} v{m.version} as {m.stage} ({m.artifact_path})")


@models_app.command("list")
def list_cmd(
    name: Annotated[str | None, typer.Option("--name", help="Only this model.")] = None,
    workspace: WorkspaceOpt = Path("."),
    json_out: JsonOpt = False,
) -> None:
    """List registered models, newest version first."""
    state = open_state(workspace)
    try:
        entries = predict.list_models(state, name=name)
    finally:
        state.close()
    if json_out:
        print_json([e.to_json() for e in entries])
        return
    grid = RichTable("name", "version", "stage", "created (UTC)", "window", "artifact")
    for e in entries:
        window = f"{e.training_window_start} .. {e.training_window_end}"
        created = e.created_at.isoformat(sep=" ", timespec="seconds")
        grid.add_row(e.name, str(e.version), e.stage, created, window, e.artifact_sha256[:12])
    out.print(grid if entries else "no models registered yet")


def _stage(
    name: str, version: int, workspace: Path, *, production: bool
) -> predict.RegisteredModel:
    state = open_state(workspace)
    try:
        if production:
            return predict.promote(state, name, version)
        return predict.retire(state, name, version)
    finally:
        state.close()


NameArg = Annotated[str, typer.Argument(help="Model name (e.g. clv).")]
VersionArg = Annotated[int, typer.Argument(help="Version number.", min=1)]


@models_app.command("promote")
def promote_cmd(
    name: NameArg,
    version: VersionArg,
    workspace: WorkspaceOpt = Path("."),
    json_out: JsonOpt = False,
) -> None:
    """Make a version the production one (the previous production version is retired)."""
    entry = _stage(name, version, workspace, production=True)
    if json_out:
        print_json(entry.to_json())
        return
    out.print(f"{entry.name} v{entry.version} is now {entry.stage}")


@models_app.command("retire")
def retire_cmd(
    name: NameArg,
    version: VersionArg,
    workspace: WorkspaceOpt = Path("."),
    json_out: JsonOpt = False,
) -> None:
    """Take a version out of service (its row and artifact are kept)."""
    entry = _stage(name, version, workspace, production=False)
    if json_out:
        print_json(entry.to_json())
        return
    out.print(f"{entry.name} v{entry.version} is now {entry.stage}")
