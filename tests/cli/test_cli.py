"""The command line as a user runs it: a process per command (tests/memberlens_process.py),
exit codes, JSON per docs/cli.md."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tests import memberlens_process
from tests.conftest import REPO

SCHEMA_BLOCK = re.compile(r"```json-schema (\S+)\n(.*?)```", re.S)
ORDERS = (
    "order_id,source,source_member_key,ordered_at,total_amount\n"
    "o1,pos,m1,2024-05-01T10:00:00+08:00,12.50\no2,pos,m1,not-a-date,3.00\n"
)


def schemas() -> dict[str, Any]:
    text = (REPO / "docs" / "cli.md").read_text(encoding="utf-8")
    return {name: json.loads(body) for name, body in SCHEMA_BLOCK.findall(text)}


def cli(*args: str, check: bool = False) -> subprocess.CompletedProcess[str]:
    """``memberlens *args`` in a process of its own (tests/memberlens_process.py)."""
    # The timeout guards against a hang, not a slow machine: pytest-timeout stops a test
    # at 600 s, so a command may take most of that on a loaded CI runner.
    return memberlens_process.run(args, timeout=540, check=check)


def json_of(*args: str, schema: str) -> Any:
    done = cli(*args, "--json", check=True)
    data = json.loads(done.stdout)
    jsonschema.validate(data, schemas()[schema])
    return data


def test_docs_hold_a_schema_for_every_json_command() -> None:
    assert {"init", "ingest", "quality", "quality-quarantine", "demo", "refresh", "jobs"} <= set(
        schemas()
    )


@pytest.mark.slow
def test_init_ingest_quality_round_trip(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    made = json_of("init", str(ws), schema="init")
    assert made["created"] and (ws / "data" / "warehouse.duckdb").is_file()
    assert (ws / "data" / "state.db").is_file() and (ws / "memberlens.toml").is_file()
    assert not Path(made["key_file"]).is_relative_to(ws)  # keys live outside
    src = tmp_path / "orders.csv"
    src.write_text(ORDERS, encoding="utf-8")
    result = json_of("ingest", "orders", str(src), "-w", str(ws), "--quiet", schema="ingest")
    assert (result["read"], result["loaded"], result["quarantined"]) == (2, 1, 1)
    report = json_of("quality", "-w", str(ws), schema="quality")
    assert report["orders"]["rows"] == 1 and report["orders"]["invalid"] == 1
    rejected = json_of(
        "quality", "-w", str(ws), "--quarantine", result["run_id"], schema="quality-quarantine"
    )
    assert rejected == [{"line": 3, "column": "ordered_at", "reason": rejected[0]["reason"]}]
    assert "'not-a-date' is not a valid timestamp" in rejected[0]["reason"]
    refreshed = json_of("refresh", "-w", str(ws), "--as-of", "2024-06-01", schema="refresh")
    assert refreshed["steps"]["online"]["member_summaries"] == 1
    assert refreshed["as_of"].startswith("2024-06-01T00:00:00")
    (run,) = json_of("jobs", "-w", str(ws), schema="jobs")
    assert (run["run_id"], run["status"]) == (refreshed["run_id"], "succeeded")
    bad = cli("refresh", "-w", str(ws), "--as-of", "June")
    assert bad.returncode == 2 and "YYYY-MM-DD" in bad.stderr


@pytest.mark.slow
def test_settings_come_from_toml_and_env(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    cli("init", str(ws), check=True)
    toml = ws / "memberlens.toml"
    toml.write_text(
        toml.read_text().replace('path = "data/warehouse.duckdb"', 'path = "data/other.duckdb"')
    )
    cli("quality", "-w", str(ws), check=True)
    assert (ws / "data" / "other.duckdb").is_file()
    env_path = "data/from-env.duckdb"
    done = memberlens_process.run(
        ["quality", "-w", str(ws)],
        env={**os.environ, "MEMBERLENS_WAREHOUSE__PATH": env_path},
        timeout=60,
    )
    assert done.returncode == 0 and (ws / env_path).is_file()


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (("ingest", "nosuchkind", "x.csv"), 2, "unknown kind 'nosuchkind'"),
        (("ingest", "orders", "x.csv", "--preset", "nope"), 2, "unknown preset 'nope'"),
        (("ingest", "orders", "--bogus"), 2, "No such option"),
        (("ingest", "orders", "missing.csv"), 1, "does not exist"),
        (("quality",), 1, "is not a memberlens workspace"),
    ],
)
@pytest.mark.slow
def test_errors_are_one_clear_line_without_traceback(
    tmp_path: Path, args: tuple[str, ...], code: int, message: str
) -> None:
    ws = tmp_path / "ws"
    if args[0] == "ingest":
        cli("init", str(ws), check=True)
        args = (*args, "-w", str(ws))
    else:
        args = (*args, "-w", str(tmp_path / "empty"))
    done = cli(*args)
    assert done.returncode == code
    assert message in done.stderr
    assert "Traceback" not in done.stderr + done.stdout


@pytest.mark.slow
def test_bad_toml_names_the_file(tmp_path: Path) -> None:
    ws = tmp_path / "ws"
    cli("init", str(ws), check=True)
    (ws / "memberlens.toml").write_text("[warehouse\n")
    done = cli("quality", "-w", str(ws))
    assert done.returncode == 1 and "memberlens.toml" in done.stderr


@pytest.mark.slow
def test_entry_point_is_the_same_command(tmp_path: Path) -> None:
    """The tests' forked commands (tests/memberlens_process.py) answer as a bare
    interpreter starting ``python -m memberlens`` does: output, errors, exit codes,
    the environment read at import (COLUMNS sets the width of the table)."""
    ws = tmp_path / "ws"
    cli("init", str(ws), check=True)
    env = {**os.environ, "COLUMNS": "64", "NO_COLOR": "1"}
    for args in (
        ("--version",),
        ("quality", "-w", str(ws)),
        ("quality", "-w", str(tmp_path / "nothing-here")),
        ("ingest", "orders", "--bogus"),
    ):
        real = subprocess.run(
            [sys.executable, "-m", "memberlens", *args],
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
            cwd=tmp_path,
            stdin=subprocess.DEVNULL,
        )
        forked = memberlens_process.run(args, env=env, cwd=tmp_path, timeout=120)
        assert (forked.returncode, forked.stdout, forked.stderr) == (
            real.returncode,
            real.stdout,
            real.stderr,
        ), args
    narrow = memberlens_process.run(["quality", "-w", str(ws)], env=env, timeout=120).stdout
    assert max(map(len, narrow.splitlines())) <= 64


def _command_paths() -> list[tuple[str, ...]]:
    """Every runnable command of the CLI as the words a user types."""
    import typer

    from memberlens.cli._app import app

    paths: list[tuple[str, ...]] = []

    def walk(command: Any, path: tuple[str, ...]) -> None:
        if hasattr(command, "commands"):  # a group (typer bundles its own click)
            for name, sub in command.commands.items():
                walk(sub, (*path, name))
        else:
            paths.append(path)

    walk(typer.main.get_command(app), ())
    return paths


@pytest.mark.slow
def test_every_command_has_help_and_a_section_in_the_cli_docs() -> None:
    from typer.testing import CliRunner

    from memberlens.cli._app import app

    docs = (REPO / "docs" / "cli.md").read_text(encoding="utf-8")
    paths = _command_paths()
    assert len(paths) > 30
    undocumented = []
    for path in paths:
        done = CliRunner().invoke(app, [*path, "--help"])
        assert done.exit_code == 0, (path, done.output)
        assert "Usage" in done.output and len(done.output) > 200, path
        if f"memberlens {' '.join(path)}" not in docs:
            undocumented.append(" ".join(path))
    assert not undocumented, f"not in docs/cli.md: {undocumented}"


@pytest.mark.slow
def test_schema_markdown_lists_personal_columns() -> None:
    text = cli("schema", "members", "--markdown", check=True).stdout
    assert "| `email` | string | personal, encrypted; check: email |" in text


@pytest.mark.slow
def test_a_held_workspace_is_refused_at_once_not_waited_for(tmp_path: Path) -> None:
    from memberlens.workspace import Workspace

    ws = tmp_path / "ws"
    cli("init", str(ws), check=True)
    with Workspace.open(ws):  # this test process holds the embedded warehouse
        done = cli("quality", "-w", str(ws))
    assert done.returncode == 1
    assert "is in use by process" in done.stderr and str(os.getpid()) in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.slow
def test_ctrl_c_during_an_import_loads_nothing_and_says_so(
    workspace_dir: Path, tmp_path: Path
) -> None:
    """Ctrl-C in the middle of a large import: one line saying so, exit 130, and the
    warehouse as it was (DuckDB turns the signal into its own error; not a bug)."""
    from memberlens.workspace import Workspace
    from tests.ingest.helpers import run, write

    tables = ("events", "events_history", "member_map", "quarantine", "ingest_runs")

    def counts() -> dict[str, int]:
        with Workspace.open(workspace_dir) as ws:
            return {t: int(ws.warehouse.scalar(f"SELECT count(*) FROM {t}")) for t in tables}

    with Workspace.open(workspace_dir) as ws:
        run(
            ws,
            "events",
            write(
                tmp_path / "few.csv",
                "event_id,anonymous_id,event_type,occurred_at\na1,x,view,2025-01-01T00:00:00Z\n",
            ),
        )
    before = counts()
    big = tmp_path / "events.csv"
    with big.open("w", encoding="utf-8") as fh:
        fh.write("event_id,source_member_key,event_type,occurred_at,product_id\n")
        fh.writelines(
            f"e{i},u{i % 5000},view,2025-01-{1 + i % 28:02d}T10:00:00Z,p{i % 700}\n"
            for i in range(200_000)
        )
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "memberlens",
            "ingest",
            "events",
            str(big),
            "-w",
            str(workspace_dir),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=os.environ.copy(),
        # Ctrl-C handled as from a terminal: a pytest-xdist worker ignores SIGINT, and
        # a child inherits that (the import then ran to its end, exit 0)
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    assert proc.stderr is not None
    seen = []
    for line in proc.stderr:  # stage lines on a non-terminal: read, validate, load
        seen.append(line)
        if line.strip().endswith(": validate"):
            break
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=120)
    said = "".join(seen) + stderr
    assert proc.returncode == 130, said + stdout
    assert "import interrupted, nothing was loaded" in said
    assert "internal error" not in said and "Traceback" not in said and not stdout
    assert counts() == before


@pytest.mark.slow
def test_an_encoding_it_cannot_tell_is_refused_until_the_flag_says_it(
    workspace_dir: Path, tmp_path: Path
) -> None:
    src = tmp_path / "f.csv"
    src.write_bytes("kind,text\nreview,好吃\n".encode("gbk"))  # reads 疑勛 in Big5
    refused = cli("ingest", "feedback", str(src), "-w", str(workspace_dir))
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    assert "cannot tell the encoding" in refused.stderr
    assert "--encoding gb18030" in refused.stderr and "--encoding big5" in refused.stderr
    args = ("ingest", "feedback", str(src), "-w", str(workspace_dir), "--encoding", "gbk")
    loaded = json_of(*args, "--quiet", schema="ingest")
    assert (loaded["loaded"], loaded["encoding"]) == (1, "gbk")


@pytest.mark.slow
def test_a_csv_whose_columns_do_not_match_fails_once_with_what_to_do(
    workspace_dir: Path, tmp_path: Path
) -> None:
    src = tmp_path / "orders.csv"
    src.write_text(
        "order_no,member,order_date,amount\n"
        + "".join(f"o{i},m{i},2024-05-0{i},3.00\n" for i in range(1, 6)),
        encoding="utf-8",
    )
    done = cli("ingest", "orders", str(src), "-w", str(workspace_dir))
    assert done.returncode == 1 and "Traceback" not in done.stderr
    said = " ".join(done.stderr.split())  # the console wraps long lines
    assert "orders need ordered_at" in said and said.count("is required") == 0
    assert "the file has order_no, member, order_date, amount" in said
    assert "order_date → ordered_at" in said and "--mapping" in said
    assert not done.stdout
