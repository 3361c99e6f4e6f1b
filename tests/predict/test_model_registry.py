"""The model registry: versions, stages, content-addressed artifacts, the CLI over it."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import pyarrow as pa
import pytest

from memberlens import predict, registry
from memberlens.core.errors import InputError
from memberlens.workspace import Workspace
from tests.cli.test_cli import cli, json_of
from tests.conftest import requires_datasets
from tests.predict.cdnow_helpers import MAPPING, SAMPLE, load_sample


def _register(ws: Workspace, tag: int) -> registry.RegisteredModel:
    return registry.register_model(
        ws.state,
        ws.root,
        name="clv",
        artifact={"format": "test", "tag": tag},
        params={"tag": tag},
        metrics={"loglik": -tag},
        window=(date(2024, 1, 1), date(2024, 6, 30)),
        data_fingerprint="f" * 64,
    )


def test_first_version_serves_later_ones_wait_and_promotion_retires(workspace: Workspace) -> None:
    first, second, third = (_register(workspace, k) for k in (1, 2, 3))
    assert [(e.version, e.stage) for e in (first, second, third)] == [
        (1, "production"),
        (2, "candidate"),
        (3, "candidate"),
    ]
    registry.promote(workspace.state, "clv", 3)
    stages = {e.version: e.stage for e in registry.list_models(workspace.state)}
    assert stages == {1: "retired", 2: "candidate", 3: "production"}
    assert registry.get_model(workspace.state, "clv").version == 3
    registry.retire(workspace.state, "clv", 3)
    with pytest.raises(registry.ModelNotFoundError, match="has no production version"):
        registry.get_model(workspace.state, "clv")
    with pytest.raises(registry.ModelNotFoundError, match="no version 9"):
        registry.promote(workspace.state, "clv", 9)


def test_artifacts_are_content_addressed_json_and_tampering_is_caught(
    workspace: Workspace,
) -> None:
    one, again = _register(workspace, 1), _register(workspace, 1)
    assert one.artifact_sha256 == again.artifact_sha256  # same content, one file
    path = workspace.root / one.artifact_path
    assert path == workspace.root / "models" / f"{one.artifact_sha256}.json"
    assert json.loads(path.read_text()) == {"format": "test", "tag": 1}
    assert registry.read_artifact(workspace.root, one)["tag"] == 1
    path.write_text('{"format": "test", "tag": 2}')
    with pytest.raises(InputError, match="does not match its sha256"):
        registry.read_artifact(workspace.root, one)


@requires_datasets
def test_score_clv_gives_one_row_per_member_with_the_model_version(workspace: Workspace) -> None:
    load_sample(workspace)
    predict.fit_clv(
        workspace.warehouse, workspace.state, workspace.root, calibration_end=date(1997, 9, 30)
    )
    model = predict.load_clv_model(workspace.state, workspace.root)
    table = predict.score_clv(workspace.warehouse, model, datetime(1997, 10, 1))
    assert isinstance(table, pa.Table) and table.num_rows == 2_357
    assert set(table.column("model_version").to_pylist()) == {"clv:1"}
    frame = table.to_pandas()
    assert frame.p_alive.between(0, 1).all() and (frame.clv >= 0).all()
    assert (frame.expected_purchases_30d <= frame.expected_purchases_90d).all()
    assert frame.clv_percentile.max() == 100.0
    # The summary behind the scores is the calibration one: T is 38.86 weeks for the
    # customers who first bought on 1997-01-01.
    assert frame["T"].max() == pytest.approx(272 / 7)


@requires_datasets
@pytest.mark.slow  # about 40 s: a dozen CLI processes
def test_predict_and_models_commands(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    json_of("init", str(ws), schema="init")
    cli("ingest", "orders", str(SAMPLE), "--mapping", str(MAPPING), "-w", str(ws), check=True)
    args = ("predict", "clv", "--calibration-end", "1997-09-30", "-w", str(ws))
    first = json_of(*args, "--holdout-end", "1998-06-30", schema="predict-clv")
    assert first["holdout"]["actual_repeat"] == 1_882
    assert first["bgnbd"]["r"] == pytest.approx(0.243, rel=0.01)
    assert first["model"] == {**first["model"], "version": 1, "stage": "production"}
    second = json_of(*args, schema="predict-clv")
    assert second["holdout"] is None and second["model"]["stage"] == "candidate"
    listed = json_of("models", "list", "-w", str(ws), schema="models-list")
    assert [(m["version"], m["stage"]) for m in listed] == [(2, "candidate"), (1, "production")]
    promoted = json_of("models", "promote", "clv", "2", "-w", str(ws), schema="models-entry")
    assert promoted["stage"] == "production"
    retired = json_of("models", "retire", "clv", "2", "-w", str(ws), schema="models-entry")
    assert retired["stage"] == "retired"
    stages = [m["stage"] for m in json_of("models", "list", "-w", str(ws), schema="models-list")]
    assert stages == ["retired", "retired"]
    bad = cli(*args[:2], "--calibration-end", "30/09/1997", "-w", str(ws))
    assert bad.returncode == 2 and "YYYY-MM-DD" in bad.stderr
    missing = cli("models", "promote", "clv", "7", "-w", str(ws))
    assert missing.returncode == 1 and "MODEL_NOT_FOUND" in missing.stderr


def test_a_missing_model_says_how_to_fit_it(workspace: Workspace) -> None:
    """The registry knows no domain: its message points at the list; predict's loaders
    add how to fit their own model (a churn look-up said to fit CLV)."""
    with pytest.raises(registry.ModelNotFoundError) as missing:
        registry.get_model(workspace.state, "clv")
    assert missing.value.message == (
        "model 'clv' has no production version; see `memberlens models list`"
    )
    with pytest.raises(
        registry.ModelNotFoundError, match="fit one with `memberlens predict churn`"
    ):
        predict.load_churn_model(workspace.state, workspace.root)
    with pytest.raises(registry.ModelNotFoundError, match="fit one with `memberlens predict clv "):
        predict.load_clv_model(workspace.state, workspace.root)
    entry = _register(workspace, 1)
    (workspace.root / entry.artifact_path).unlink()
    with pytest.raises(registry.ModelNotFoundError) as gone:
        registry.read_artifact(workspace.root, entry)
    assert "is missing" in gone.value.message and "predict" not in gone.value.message
