"""``memberlens predict ...`` and ``memberlens models ...``: fit CLV, manage the registry."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table as RichTable

from memberlens import predict, registry
from memberlens.cli._common import JsonOpt, QuietOpt, WorkspaceOpt, err, out, print_json, stages
from memberlens.core.errors import UsageError
from memberlens.workspace import Workspace, open_state

predict_app = typer.Typer(
    help=(
        "Predictions: lifetime value (BG/NBD + Gamma-Gamma), churn risk, backtests; "
        "see docs/predictions.md."
    ),
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


HorizonOpt = Annotated[
    int | None,
    typer.Option(
        "--horizon-days",
        min=1,
        max=730,
        help="Churn = no purchase within this many days (default: [predict] or the "
        "75th percentile of gaps between purchase days).",
    ),
]
AsOfOpt = Annotated[
    str | None,
    typer.Option(
        "--as-of",
        help="Use only orders before this day (YYYY-MM-DD); default: the workspace clock, "
        '[refresh] as_of ("data": the day after the newest order or event).',
    ),
]
EvaluateOpt = Annotated[
    str | None,
    typer.Option(
        "--evaluate-at",
        help="The held-out test cut-off (default: as-of minus the horizon).",
    ),
]
OverlapOpt = Annotated[
    bool,
    typer.Option(
        "--overlap",
        help="Let training label windows run past the test cut-off (for short histories; "
        "the test figures are then optimistic and reported as such).",
    ),
]


def _churn_options(
    ws: Workspace,
    horizon_days: int | None,
    evaluate_at: str | None,
    overlap: bool,
) -> predict.ChurnOptions:
    s = ws.settings.predict
    return predict.ChurnOptions(
        horizon_days=horizon_days or s.churn_horizon_days,
        cutoffs=s.churn_cutoffs,
        step_days=s.churn_step_days,
        evaluate_at=_day(evaluate_at, "--evaluate-at"),
        overlap=overlap,
    )


def _as_of(value: str | None, ws: Workspace) -> date:
    from memberlens import pipeline  # the workspace clock

    return _day(value, "--as-of") or pipeline.clock(ws).moment.date()


@predict_app.command("churn")
def churn(
    as_of: AsOfOpt = None,
    horizon_days: HorizonOpt = None,
    evaluate_at: EvaluateOpt = None,
    overlap: OverlapOpt = False,
    workspace: WorkspaceOpt = Path("."),
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Train the churn model (LightGBM), test it held out in time beside BG/NBD, register it."""
    with Workspace.open(workspace) as ws:
        day = _as_of(as_of, ws)
        options = _churn_options(ws, horizon_days, evaluate_at, overlap)
        with stages("churn model", quiet=quiet or json_out) as progress:
            report = predict.fit_churn(
                ws.warehouse,
                ws.state,
                ws.root,
                as_of=day,
                default_timezone=ws.settings.workspace.default_timezone,
                options=options,
                progress=progress,
            )
    if json_out:
        print_json(report.to_json())
        return
    _print_evaluation(report.evaluation)
    m = report.model
    top = ", ".join(list(report.importance)[:5])
    out.print(f"strongest inputs: {top}")
    out.print(f"registered {m.name} v{m.version} as {m.stage} ({m.artifact_path})")


@predict_app.command("backtest")
def backtest_cmd(
    as_of: AsOfOpt = None,
    horizon_days: HorizonOpt = None,
    evaluate_at: Annotated[
        str | None,
        typer.Option(
            "--evaluate-at", help="The latest replayed cut-off (default: as-of minus the horizon)."
        ),
    ] = None,
    replays: Annotated[
        int, typer.Option("--replays", min=1, max=24, help="Cut-offs to replay.")
    ] = 4,
    every_days: Annotated[
        int, typer.Option("--every-days", min=1, max=365, help="Days between replayed cut-offs.")
    ] = 30,
    overlap: OverlapOpt = False,
    workspace: WorkspaceOpt = Path("."),
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Replay past cut-offs: train as of each, score what happened after; metrics over time."""
    with Workspace.open(workspace) as ws:
        day = _as_of(as_of, ws)
        options = _churn_options(ws, horizon_days, evaluate_at, overlap)
        with stages("backtest", quiet=quiet or json_out) as progress:
            done, skipped = predict.backtest(
                ws.warehouse,
                as_of=day,
                default_timezone=ws.settings.workspace.default_timezone,
                options=options,
                replays=replays,
                every_days=every_days,
                progress=progress,
            )
    if json_out:
        print_json({"evaluations": [e.to_json() for e in done], "skipped": skipped})
        return
    grid = RichTable(
        "cut-off",
        "rows",
        "churned",
        "AUC",
        "BG/NBD AUC",
        "PR-AUC",
        "Brier",
        "lift@10%",
        "next-purchase MAE (naive)",
        "repeat predicted/actual",
    )
    for e in done:
        m, b, n, c = e.model, e.baseline, e.next_purchase, e.clv
        grid.add_row(
            e.cutoff.isoformat(),
            f"{m['rows']:,}",
            f"{m['positive_rate']:.1%}",
            f"{m['roc_auc']:.3f}",
            f"{b['roc_auc']:.3f}",
            f"{m['pr_auc']:.3f}",
            f"{m['brier']:.3f}",
            f"{m['top_decile_lift']:.2f}",
            f"{n['mae_days']} d ({n['naive_mae_days']} d)",
            f"{c['predicted_repeat']:,.0f} / {c['actual_repeat']:,}",
        )
    out.print(grid)
    out.print(
        f"horizon {done[0].horizon_days} days"
        + (" (overlapping labels)" if done[0].overlap else "")
    )
    for reason in skipped:
        err.print(f"[yellow]skipped[/yellow] {reason}", soft_wrap=True)


def _print_evaluation(e: predict.ChurnEvaluation) -> None:
    m, b, n = e.model, e.baseline, e.next_purchase
    out.print(
        f"churn = no purchase within {e.horizon_days} days; test at {e.cutoff} on "
        f"{m['rows']:,} buyers ({m['positive_rate']:.1%} churned), trained on cut-offs "
        f"{', '.join(c.isoformat() for c in e.fit_cutoffs)} (validated on {e.validate_cutoff})"
    )
    if e.overlap:
        out.print("[yellow]training label windows overlap the test window: optimistic[/yellow]")
    out.print(
        f"ROC-AUC {m['roc_auc']:.4f} (BG/NBD baseline {b['roc_auc']:.4f}), PR-AUC "
        f"{m['pr_auc']:.4f} ({b['pr_auc']:.4f}), Brier {m['brier']:.4f}, top-decile lift "
        f"{m['top_decile_lift']:.2f} ({b['top_decile_lift']:.2f})"
    )
    out.print(
        f"next purchase: mean absolute error {n['mae_days']} days over {n['members']:,} "
        f"members who bought again (naive last purchase + usual gap: {n['naive_mae_days']} days)"
    )


@models_app.command("list")
def list_cmd(
    name: Annotated[str | None, typer.Option("--name", help="Only this model.")] = None,
    workspace: WorkspaceOpt = Path("."),
    json_out: JsonOpt = False,
) -> None:
    """List registered models, newest version first."""
    state = open_state(workspace)
    try:
        entries = registry.list_models(state, name=name)
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
) -> registry.RegisteredModel:
    state = open_state(workspace)
    try:
        if production:
            return registry.promote(state, name, version)
        return registry.retire(state, name, version)
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
