"""``memberlens demo``: generate the synthetic member base and run everything on it."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from memberlens import accounts, pipeline, predict, registry
from memberlens.core.errors import InputError, UsageError
from memberlens.core.progress import advance, stage
from memberlens.demo._people import WINDOW_END
from memberlens.demo._synth import DemoTruth, generate_sources
from memberlens.ingest import IngestRequest, IngestResult, ingest_file, parse_mapping
from memberlens.workspace import Workspace, init_workspace

# Files in load order: catalogue and members first, so orders find their members.
LOAD_ORDER: tuple[tuple[str, str], ...] = (
    ("products", "products.csv"),
    ("members", "members_pos.csv"),
    ("members", "members_app.jsonl"),
    ("orders", "orders.csv"),
    ("order_items", "order_items.csv"),
    ("events", "events.parquet"),
    ("feedback", "feedback.csv"),
    ("consents", "consents.csv"),
    ("touches", "touches.csv"),
)
SOURCES = "sources"
ACCOUNT_DOMAIN = "demo.memberlens.dev"

# The first day after the generated two years: the demo refresh's cut-off.
DEMO_TODAY = WINDOW_END.astype("M8[D]").astype(date)


@dataclass
class DemoReport:
    """What the demo did and how long each stage took."""

    workspace: Path
    truth: DemoTruth
    generated: bool
    stages: dict[str, float] = field(default_factory=dict)
    imports: list[IngestResult] = field(default_factory=list)
    # (role, e-mail, password): fresh passwords on every run, shown once, stored hashed
    accounts: list[tuple[str, str, str]] = field(default_factory=list)
    refresh: dict[str, object] = field(default_factory=dict)


def run_demo(
    root: Path,
    *,
    members: int = 20_000,
    seed: int = 42,
    progress: Callable[[str], None] | None = None,
) -> DemoReport:
    """Build (or refresh) the demo workspace at ``root``; idempotent for one seed and size."""
    say = progress or (lambda _msg: None)
    root = root.resolve()
    sources = root / SOURCES
    timings: dict[str, float] = {}

    start = time.perf_counter()
    truth, generated = _sources(sources, members=members, seed=seed, say=say)
    timings["generate"] = time.perf_counter() - start

    start = time.perf_counter()
    say("init")
    init_workspace(root, name="memberlens demo")
    timings["init"] = time.perf_counter() - start

    report = DemoReport(root, truth, generated, timings)
    with Workspace.open(root) as ws:
        for kind, name in LOAD_ORDER:
            start = time.perf_counter()
            say(f"ingest {name}")
            report.imports.append(ingest_source(ws, sources, kind, name))
            timings[f"ingest {name}"] = time.perf_counter() - start
        # The CLV and churn models are fitted once, before the refresh, so that its
        # predictions step scores with them and one refresh does everything (a rerun
        # keeps what an earlier run fitted). They read members as identity resolution
        # merges them: that step first.
        missing = {predict.CLV_MODEL, predict.CHURN_MODEL} - {
            m.name for m in registry.list_models(ws.state)
        }
        if missing:
            start = time.perf_counter()
            say("models")
            try:
                with stage("models"):
                    pipeline.refresh(ws, as_of=DEMO_TODAY, only=["identity"])
                    _fit_models(ws, missing)
            except InputError as exc:  # a tiny demo may not hold enough history
                say(f"models skipped: {exc}")
            timings["models"] = time.perf_counter() - start
        start = time.perf_counter()
        say("refresh")
        # As of the day after the generated window: "today" for the demo's members, so
        # recency, lifecycle stages and segments read as they would in a live shop.
        report.refresh = pipeline.refresh(ws, as_of=DEMO_TODAY).to_json()
        timings["refresh"] = time.perf_counter() - start
        say("accounts")
        report.accounts = demo_accounts(ws)
    return report


def ingest_source(ws: Workspace, sources: Path, kind: str, name: str) -> IngestResult:
    """Load one generated file (``name`` in ``sources``, a ``kind`` of LOAD_ORDER) as
    the demo does: the demo preset's column names, the workspace's default zone."""
    request = IngestRequest(
        kind=kind,
        path=sources / name,
        mapping=parse_mapping("", origin="(demo)", name="demo"),
        timezone=ws.settings.workspace.default_timezone,
    )
    return ingest_file(ws.warehouse, ws.keyring, request)


def _fit_models(ws: Workspace, names: set[str]) -> None:
    """The CLV and churn models (those in ``names``), fitted on everything before the
    demo's today."""
    if predict.CLV_MODEL in names:
        day = DEMO_TODAY - timedelta(days=1)
        with stage("lifetime value"):
            predict.fit_clv(ws.warehouse, ws.state, ws.root, calibration_end=day)
    if predict.CHURN_MODEL in names:
        done = 0

        def said(note: str) -> None:
            nonlocal done
            done += 1
            advance(done, None, note)

        with stage("churn"):
            predict.fit_churn(
                ws.warehouse,
                ws.state,
                ws.root,
                as_of=DEMO_TODAY,
                default_timezone=ws.settings.workspace.default_timezone,
                progress=said,
            )


def demo_accounts(ws: Workspace) -> list[tuple[str, str, str]]:
    """One account per role, so that a newcomer can log in at once as any of them.

    Passwords are generated anew on every run (and only their hashes kept), so that
    the demo can print them each time without storing them anywhere.
    """
    made = []
    for role in accounts.Role:
        email = f"{role.value.replace('_', '-')}@{ACCOUNT_DOMAIN}"
        try:
            _, secret = accounts.create_user(ws.state, email=email, role=role.value, actor="demo")
        except UsageError:  # made by an earlier run
            secret = accounts.reset_password(ws.state, email=email, actor="demo")
        assert secret is not None
        made.append((role.value, email, secret.secret))
    return made


def _sources(
    folder: Path, *, members: int, seed: int, say: Callable[[str], None]
) -> tuple[DemoTruth, bool]:
    """Reuse the generated files when they were made with the same seed and size."""
    truth_file = folder / "truth.json"
    if truth_file.is_file():
        data = json.loads(truth_file.read_text(encoding="utf-8"))
        if (
            data.get("seed") == seed
            and data.get("requested_members", data.get("persons")) == members
        ):
            return DemoTruth.from_json(truth_file), False
    say("generate")
    truth = generate_sources(folder, members=members, seed=seed)
    return truth, True
