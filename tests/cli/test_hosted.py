"""Commands a server runs for a client (POST /api/v1/cli), in process.

The real processes — a client that finds the workspace held and a `memberlens serve`
that runs its command — are tests/cli/test_readme_with_server.py (slow tier).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from memberlens import accounts
from memberlens.cli._hosted import route_streams, run_hosted
from memberlens.cli._remote import absolute_argv
from memberlens.service import create_app
from memberlens.workspace import Workspace
from tests.ingest.helpers import run, write

ORDERS = """order_id,source,source_member_key,ordered_at,total_amount
o1,pos,m1,2025-05-01T10:00:00Z,10.00
"""


@pytest.fixture
def served(workspace_dir: Path, tmp_path: Path) -> Iterator[tuple[TestClient, dict[str, str]]]:
    with Workspace.open(workspace_dir) as ws:
        run(ws, "orders", write(tmp_path / "o.csv", ORDERS))
        _, secret = accounts.create_token(ws.state, name="t", scopes=["admin"], actor="t")
    app = create_app(workspace_dir, flush_interval=3600, commands=run_hosted)
    with TestClient(app) as client:
        yield client, {"Authorization": f"Bearer {secret.secret}"}


def _run(client: TestClient, headers: dict[str, str], *argv: str) -> tuple[int, str, str]:
    # `memberlens serve` routes the streams once at start; pytest puts its own capture
    # streams back between a test's phases, so route them here, in the test's own phase.
    route_streams()
    answer = client.post("/api/v1/cli", json={"argv": list(argv)}, headers=headers)
    assert answer.status_code == 200, answer.text
    lines = [json.loads(line) for line in answer.text.splitlines()]
    assert "exit" in lines[-1] and all("exit" not in x for x in lines[:-1])
    out = "".join(x.get("out", "") for x in lines)
    err = "".join(x.get("err", "") for x in lines)
    return int(lines[-1]["exit"]), out, err


def test_a_command_runs_on_the_held_workspace_and_its_output_comes_back(
    served: tuple[TestClient, dict[str, str]], workspace_dir: Path
) -> None:
    client, headers = served
    code, out, _ = _run(client, headers, "tags", "list", "-w", str(workspace_dir), "--json")
    assert code == 0
    assert isinstance(json.loads(out), list)  # the command's own JSON, whole
    code, _, err = _run(client, headers, "tags", "list", "-w", str(workspace_dir / "nope"))
    assert code == 1 and "not a memberlens workspace" in err  # its error and exit code


def test_a_reading_command_runs_at_once_while_a_job_holds_the_warehouse(
    served: tuple[TestClient, dict[str, str]], workspace_dir: Path
) -> None:
    client, headers = served
    gate = client.app.state.gate  # type: ignore[attr-defined]
    ws = str(workspace_dir)
    done: dict[str, Any] = {}

    def write_while_held() -> None:
        done["token"] = _run(
            client, headers, "token", "create", "x", "--scope", "events:write", "-w", ws, "--json"
        )
        done["at"] = time.monotonic()

    with gate.hold("refresh"):
        began = time.monotonic()
        assert _run(client, headers, "segment", "list", "-w", ws)[0] == 0  # reads: no wait
        assert time.monotonic() - began < 10
        writer = threading.Thread(target=write_while_held)
        writer.start()
        time.sleep(1.0)
        assert "at" not in done  # a writing command waits for the job
        released = time.monotonic()
    writer.join(60)
    assert done["at"] >= released and done["token"][0] == 0
    assert json.loads(done["token"][1])["token"].startswith("mlt_")


def test_commands_that_make_or_hold_a_workspace_do_not_run_in_a_server(
    served: tuple[TestClient, dict[str, str]], tmp_path: Path
) -> None:
    client, headers = served
    for argv in (["demo", str(tmp_path / "d")], ["serve"], ["init", str(tmp_path / "i")]):
        code, _, err = _run(client, headers, *argv)
        assert code == 2 and "does not run inside a server" in err
    assert not (tmp_path / "d").exists() and not (tmp_path / "i").exists()


def test_a_question_to_the_client_gets_no_answer_and_does_not_hang(
    served: tuple[TestClient, dict[str, str]], workspace_dir: Path
) -> None:
    client, headers = served
    began = time.monotonic()
    # `user add` without --password asks for one
    code, _, _ = _run(
        client, headers, "user", "add", "a@shop.cn", "--role", "viewer", "-w", str(workspace_dir)
    )
    assert time.monotonic() - began < 30
    assert code in (0, 1)  # made with a generated password, or refused: never a hang


def test_only_an_admin_token_may_run_commands(
    served: tuple[TestClient, dict[str, str]], workspace_dir: Path
) -> None:
    client, _ = served
    assert client.post("/api/v1/cli", json={"argv": ["tags", "list"]}).status_code == 401
    ws = client.app.state.workspace  # type: ignore[attr-defined]
    _, weak = accounts.create_token(ws.state, name="w", scopes=["events:write"], actor="t")
    answer = client.post(
        "/api/v1/cli",
        json={"argv": ["tags", "list"]},
        headers={"Authorization": f"Bearer {weak.secret}"},
    )
    assert answer.status_code == 403


def test_paths_are_made_absolute_for_a_server_in_another_folder() -> None:
    import typer

    from memberlens.cli._app import app

    export = typer.main.get_command(app).commands["export"]
    argv = absolute_argv(
        export,
        ["members", "--out", "m.parquet", "--pseudonymize"],
        cwd=Path("/home/a"),
        workspace=Path("/srv/ws"),
    )
    assert argv == [
        "members",
        "--out",
        "/home/a/m.parquet",
        "--pseudonymize",
        "--workspace",
        "/srv/ws",
    ]
