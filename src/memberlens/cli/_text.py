"""``memberlens text ...``: sentiment models trained and evaluated on labelled feedback,
and the feedback report."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table as RichTable

from memberlens import text
from memberlens.cli._common import JsonOpt, QuietOpt, WorkspaceOpt, out, print_json, stages
from memberlens.core.errors import InputError, UsageError
from memberlens.core.settings import CONFIG_FILE
from memberlens.workspace import Workspace, open_state

text_app = typer.Typer(
    help="Feedback text: sentiment models trained and evaluated on labelled feedback; "
    "see docs/text.md.",
    no_args_is_help=True,
)

FileArg = Annotated[
    Path, typer.Argument(help="CSV, TSV or JSON Lines file of labelled feedback (UTF-8).")
]
TextColumn = Annotated[str, typer.Option("--text-column", help="Column holding the text.")]
LabelColumn = Annotated[
    str,
    typer.Option(
        "--label-column", help="Column holding the label: 1/0, positive/negative, 正面/负面."
    ),
]


def register(app: typer.Typer) -> None:
    app.add_typer(text_app, name="text")


def _read(path: Path, text_column: str, label_column: str) -> text.Labelled:
    return text.read_labelled(path, text_column=text_column, label_column=label_column)


def _in_workspace(root: Path) -> bool:
    return (root / CONFIG_FILE).is_file()


@text_app.command("train")
def train_cmd(
    file: FileArg,
    text_column: TextColumn = "text",
    label_column: LabelColumn = "label",
    cv: Annotated[
        int,
        typer.Option(
            "--cv", min=0, max=20, help="Folds of the cross-validation reported (0: none)."
        ),
    ] = 5,
    workspace: WorkspaceOpt = Path("."),
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Train a sentiment model on FILE and make it the workspace's production
    `sentiment` model (the refresh scores feedback with it)."""
    root = workspace.resolve()
    if not _in_workspace(root):
        raise UsageError(f"{root} is not a workspace: run `memberlens init` there or pass -w")
    with stages("train", quiet=quiet or json_out) as say:
        say("reading")
        data = _read(file, text_column, label_column)
        state = open_state(root)
        try:
            say("the production model on this file")
            previous = text.scores(text.production_model(state, root), data.texts, data.labels)
            checked = None
            if cv:
                say(f"{cv}-fold cross-validation")
                checked = text.cross_validate(data.texts, data.labels, folds=cv)
            say(f"fitting on {len(data.texts):,} texts")
            started = time.perf_counter()
            model = text.train(data.texts, data.labels)
            seconds = round(time.perf_counter() - started, 1)
            metrics = {"cv": checked} if checked else {}
            entry = text.register_trained(
                state,
                root,
                model,
                texts=data.texts,
                labels=data.labels,
                metrics=metrics,
                params={"languages": sorted(model.languages), **model.params_json()},
            )
        finally:
            state.close()
    result: dict[str, Any] = {
        "n": len(data.texts),
        "rejected": data.report()["count"],
        "model": f"{entry.name} v{entry.version}",
        "version": entry.version,
        "languages": sorted(model.languages),
        "fit_seconds": seconds,
        "cv": checked,
        "previous": previous,
    }
    if json_out:
        print_json(result)
        return
    out.print(
        f"{result['model']}: trained on {result['n']:,} texts "
        f"({', '.join(result['languages'])}) in {seconds} s; now in production"
    )
    if checked:
        out.print(
            f"  {cv}-fold cross-validation: accuracy {checked['accuracy']:.4f}, "
            f"macro-F1 {checked['f1']:.4f}"
        )
    out.print(
        f"  {previous['model']} on the same file: accuracy {previous['accuracy']:.4f}, "
        f"macro-F1 {previous['f1']:.4f}"
    )
    _say_rejected(data)


@text_app.command("evaluate")
def evaluate_cmd(
    file: FileArg,
    text_column: TextColumn = "text",
    label_column: LabelColumn = "label",
    model: Annotated[
        str | None,
        typer.Option(
            "--model",
            help="builtin, sentiment (the production version) or sentiment@N; default: "
            "the workspace's production model, the built-in one outside a workspace.",
        ),
    ] = None,
    cv: Annotated[
        int,
        typer.Option(
            "--cv",
            min=0,
            max=20,
            help="Cross-validate a model trained on FILE itself, in this many folds.",
        ),
    ] = 0,
    workspace: WorkspaceOpt = Path("."),
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Accuracy and macro-F1 of a sentiment model on labelled FILE."""
    if cv and model is not None:
        raise UsageError("--cv trains its own model on FILE; leave out --model")
    if cv == 1:
        raise UsageError("--cv needs at least 2 folds (5 is usual)")
    root = workspace.resolve()
    with stages("evaluate", quiet=quiet or json_out) as say:
        say("reading")
        data = _read(file, text_column, label_column)
        if cv:
            say(f"{cv}-fold cross-validation")
            try:
                result = text.cross_validate(data.texts, data.labels, folds=cv)
            except ValueError as exc:
                raise InputError(str(exc)) from None
        else:
            name = model or (text.SENTIMENT_MODEL if _in_workspace(root) else text.BUILTIN)
            state = open_state(root) if name != text.BUILTIN else None
            try:
                say(f"scoring with {name}")
                chosen = text.load_model(state, root, name)
                result = text.scores(chosen, data.texts, data.labels)
            finally:
                if state is not None:
                    state.close()
    result["rejected"] = data.report()["count"]
    if json_out:
        print_json(result)
        return
    out.print(
        f"{result['model']}: accuracy {result['accuracy']:.4f}, macro-F1 {result['f1']:.4f} "
        f"on {result['n']:,} texts"
    )
    _say_rejected(data)


@text_app.command("report")
def report_cmd(
    days: Annotated[
        int, typer.Option("--days", min=1, max=3650, help="Feedback of this many days.")
    ] = 90,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            help="Day the report ends before, YYYY-MM-DD (default: the workspace clock, "
            '[refresh] as_of: "data" = the day after the newest order or event).',
        ),
    ] = None,
    period: Annotated[
        str, typer.Option("--period", help="Trend buckets: week or month.")
    ] = "month",
    workspace: WorkspaceOpt = Path("."),
    json_out: JsonOpt = False,
    quiet: QuietOpt = False,
) -> None:
    """Sentiment trend, top pain points with quotes, keywords and topics of negative
    feedback, NPS and CSAT overall and by tier, channel and segment (run a refresh first:
    it reads the text step's feedback_insights)."""
    if period not in ("week", "month"):
        raise UsageError(f"--period {period!r}: use week or month")
    from memberlens import pipeline  # the workspace clock

    with Workspace.open(workspace) as ws, stages("report", quiet=quiet or json_out) as say:
        cutoff = _day(as_of) if as_of else pipeline.clock(ws).moment
        say("sentiment model")
        model = text.production_model(ws.state, ws.root)
        say("reading feedback")
        report = text.feedback_report(
            ws.warehouse,
            since=cutoff - timedelta(days=days),
            cutoff=cutoff,
            aspects=ws.aspects(),
            positive=model.positive,
            period=period,  # type: ignore[arg-type]
        )
    if json_out:
        print_json(report)
        return
    _show_report(report)


def _day(value: str) -> datetime:
    try:
        day = datetime.strptime(value, "%Y-%m-%d")
    except ValueError:
        raise UsageError(f"--as-of {value!r} is not a date; write it as YYYY-MM-DD") from None
    return day.replace(tzinfo=UTC)


def _show_report(report: dict[str, Any]) -> None:
    undated = report["undated"]
    window = f"{report['since'][:10]} .. {report['cutoff'][:10]}"
    if undated:
        out.print(
            f"{undated['feedback']:,} feedback rows have no date (occurred_at is empty), so "
            "no window holds them: they are reported apart, as undated. Map a date column "
            "to occurred_at to see them over time."
        )
    if report["feedback"] or not undated:
        out.print(f"[bold]feedback of {window}[/bold]")
        _show_part(report)
    if undated:
        out.print("[bold]undated feedback[/bold]")
        _show_part(undated)


def _show_part(report: dict[str, Any]) -> None:
    """Headline counts, sentiment, pain points, NPS, CSAT and keywords of one part."""
    mood = report["sentiment"]
    out.print(
        f"{report['feedback']:,} feedback ({report['with_text']:,} with text), "
        f"{report['negative']:,} negative, {report['complaints']:,} complaints"
    )
    if mood["scored"]:
        out.print(
            f"sentiment {mood['mean']:+.2f} (-1..1) over {mood['scored']:,} texts: "
            f"{mood['positive']:,} positive, {mood['neutral']:,} neutral, "
            f"{mood['negative']:,} negative"
        )
    if report["pain_points"]:
        table = RichTable("pain point", "mentions", "negative", "share negative", "quote")
        for item in report["pain_points"][:8]:
            quote = item["quotes"][0]["clause"] if item["quotes"] else ""
            share = item["negative_share"]
            table.add_row(
                item["label"],
                f"{item['mentions']:,}",
                f"{item['negative']:,}",
                f"{share:.0%}" if share is not None else "",
                escape(quote[:60]),  # member-written text, not markup
            )
        out.print(table)
    overall = report["nps"]["overall"]
    if overall["n"]:
        out.print(
            f"NPS {overall['nps']:.0f} [{overall['low']:.0f}, {overall['high']:.0f}] "
            f"from {overall['n']:,} answers"
        )
    rated = report["csat"]["overall"]
    if rated["n"]:
        out.print(
            f"CSAT {rated['csat']:.0f}% [{rated['low']:.0f}, {rated['high']:.0f}] "
            f"from {rated['n']:,} ratings"
        )
    if report["keywords"]:
        out.print("negative feedback talks about: " + escape(", ".join(
            k["term"] for k in report["keywords"][:10])))  # fmt: skip


def _say_rejected(data: text.Labelled) -> None:
    report = data.report()
    for reason, seen in report["reasons"].items():
        shown = ", ".join(map(str, seen["rows"]))
        more = "…" if seen["count"] > len(seen["rows"]) else ""
        out.print(f"  left out {seen['count']:,} rows ({reason}): rows {shown}{more}")
