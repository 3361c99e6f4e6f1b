"""`memberlens text train | evaluate | report` through the real command."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from memberlens import identity, text
from memberlens.text import _ngram
from memberlens.workspace import Workspace
from tests.cli.test_cli import cli, json_of
from tests.ingest.helpers import run, write
from tests.text.test_insights import CUTOFF, FEEDBACK, MEMBERS, UNDATED
from tests.text.test_sentiment import WAIMAI, WAIMAI_TRADITIONAL, needs_waimai

pytestmark = pytest.mark.slow


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _write(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["label", "review"])
        writer.writeheader()
        writer.writerows(rows)
    return path


@needs_waimai
def test_a_model_trained_on_simplified_reads_traditional_alike(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    simplified, traditional = _rows(WAIMAI), _rows(WAIMAI_TRADITIONAL)
    assert [r["label"] for r in simplified] == [r["label"] for r in traditional]
    held = range(0, len(simplified), 4)  # a quarter held out, the same rows in both scripts
    fit = _write(tmp_path / "fit.csv", [r for i, r in enumerate(simplified) if i % 4])
    test_s = _write(tmp_path / "test_s.csv", [simplified[i] for i in held])
    test_t = _write(tmp_path / "test_t.csv", [traditional[i] for i in held])
    assert test_s.read_bytes() != test_t.read_bytes()

    ws = tmp_path / "ws"
    json_of("init", str(ws), schema="init")
    columns = ("--text-column", "review", "--label-column", "label", "-w", str(ws))
    trained = json_of("text", "train", str(fit), *columns, "--cv", "0", schema="text-train")
    assert (trained["model"], trained["languages"], trained["cv"]) == ("sentiment v2", ["zh"], None)
    assert trained["previous"]["model"] == "sentiment v1"  # the built-in one, registered
    on_s = json_of("text", "evaluate", str(test_s), *columns, schema="text-evaluate")
    on_t = json_of("text", "evaluate", str(test_t), *columns, schema="text-evaluate")
    assert on_s["model"] == on_t["model"] == "sentiment v2"
    assert on_s["n"] == on_t["n"] == len(held)
    assert on_s["accuracy"] >= 0.88  # well above the built-in model's 0.825
    assert abs(on_s["accuracy"] - on_t["accuracy"]) <= 0.01

    # The normalisation is what holds it: read each script as written, Traditional drops.
    monkeypatch.setattr(_ngram, "normalise", str.lower)
    texts = [r["review"] for r in simplified]
    raw = _ngram.NgramModel.fit(
        [t for i, t in enumerate(texts) if i % 4], [int(r["label"]) for i, r in
        enumerate(simplified) if i % 4], _ngram.NgramParams()
    )  # fmt: skip
    labels = [int(simplified[i]["label"]) for i in held]

    def accuracy(rows: list[dict[str, str]]) -> float:
        p = raw.positive([rows[i]["review"] for i in held])
        return sum((q >= 0.5) == y for q, y in zip(p, labels, strict=True)) / len(labels)

    drop = accuracy(simplified) - accuracy(traditional)
    print(
        f"held-out accuracy {on_s['accuracy']} / {on_t['accuracy']}; unnormalised drop {drop:.4f}"
    )
    assert drop > 0.02


def test_text_report_json(workspace_dir: Path, tmp_path: Path) -> None:
    with Workspace.open(workspace_dir) as ws:
        for kind, body in (("members", MEMBERS), ("feedback", FEEDBACK)):
            assert run(ws, kind, write(tmp_path / f"{kind}.csv", body)).quarantined == 0
        identity.resolve(ws.warehouse, ws.state, ws.keyring, settings=ws.settings.identity)
        aspects = ws.aspects()
        text.compute_insights(
            ws.warehouse,
            ws.state,
            ws.root,
            cutoff=CUTOFF,
            options=text.InsightOptions(),
            aspects=lambda texts, positive: text.per_text_aspects(texts, aspects, positive),
        )
    report = json_of(
        "text", "report", "--as-of", "2025-06-01", "--days", "90", "-w", str(workspace_dir),
        schema="text-report",
    )  # fmt: skip
    assert (report["feedback"], report["with_text"]) == (5, 4)  # f6 is after the cut-off
    assert report["complaints"] >= 2  # f2 and f5 are complaints by kind
    assert report["by_kind"] == {"complaint": 2, "review": 2, "survey": 1}
    nps = report["nps"]["overall"]  # f4: one answer, a 3 — a detractor
    assert (nps["n"], nps["detractors"], nps["nps"]) == (1, 1, -100.0)
    assert nps["low"] < -90 and nps["high"] > 0  # one answer says little


@needs_waimai
def test_cross_validation_of_a_model_trained_on_the_file(tmp_path: Path) -> None:
    columns = ("--text-column", "review", "--label-column", "label")
    checked = json_of(
        "text", "evaluate", str(WAIMAI), *columns, "--cv", "5", "-w", str(tmp_path),
        schema="text-evaluate",
    )  # fmt: skip
    print(f"5-fold cross-validation on waimai: {checked}")
    assert checked["n"] == 11_987 and checked["model"] == "trained (5-fold cross-validation)"
    folds = checked["folds"]
    assert len(folds) == 5
    assert checked["accuracy"] == pytest.approx(sum(f["accuracy"] for f in folds) / 5, abs=1e-4)
    # Character n-grams + logistic regression: about 0.90 on these reviews (the issue's
    # figure for the plain model); far above the zero-shot built-in model's 0.825.
    assert 0.89 <= checked["accuracy"] < 0.92
    for bad in (("--cv", "1"), ("--cv", "5", "--model", "builtin")):
        done = cli("text", "evaluate", str(WAIMAI), *columns, *bad)
        assert done.returncode == 2, done.stderr


def test_text_report_of_feedback_without_dates(workspace_dir: Path, tmp_path: Path) -> None:
    """The waimai export has no dates: the report says so and reports the rows undated,
    not a table of zeros."""
    with Workspace.open(workspace_dir) as ws:
        for kind, body in (("members", MEMBERS), ("feedback", UNDATED)):
            assert run(ws, kind, write(tmp_path / f"{kind}.csv", body)).quarantined == 0
        aspects = ws.aspects()
        text.compute_insights(
            ws.warehouse,
            ws.state,
            ws.root,
            cutoff=CUTOFF,
            options=text.InsightOptions(),
            aspects=lambda texts, positive: text.per_text_aspects(texts, aspects, positive),
        )
    args = ("text", "report", "--as-of", "2025-06-01", "-w", str(workspace_dir))
    report = json_of(*args, schema="text-report")
    assert report["feedback"] == 0 and report["undated"]["feedback"] == 4
    assert report["undated"]["sentiment"]["scored"] == 3
    shown = cli(*args, check=True).stdout
    assert "4 feedback rows have no date" in " ".join(shown.split())
    assert "undated feedback" in shown and "4 feedback (3 with text)" in shown
    assert "delivery" in shown.lower() or "配送" in shown  # a pain point of the undated rows
