"""Every command of README's tour works while `memberlens serve` holds the workspace.

Issue 17: with the server running (as `make demo` leaves it), the README's second-
terminal commands answered WORKSPACE_LOCKED. Each README command runs here as a real
process against a workspace a real server holds; the server runs it (`POST /api/v1/cli`,
or the command's own API route) and the command must succeed.

The data is a small demo (600 members: enough history for the CLV and churn models
the README fits) and slices of the shared data sets: the test proves that each command
works through the server, not how it scales — bench/ measures that.
"""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Iterator
from pathlib import Path

import pytest

from memberlens.workspace import Workspace
from tests import memberlens_process
from tests.cli.test_readme_commands import COMMANDS
from tests.conftest import DATASETS, requires_datasets
from tests.demo_cache import demo_copy, install_keys
from tests.servers import start_server, stop_server

pytestmark = [pytest.mark.slow, requires_datasets]

NOT_WITH_A_SERVER = ("init ", "serve", "demo")  # they make or hold a workspace themselves
LABELLED = "text,label\n" + "".join(
    f"第{n}次点，很好吃，送得也快,1\n第{n}次点，太难吃了，再也不点,0\n" for n in range(40)
)
MAPPING = '[read]\nformat = "csv"\n[tables.orders]\norder_id = "order_no"\n'
ORDERS = "order_no,source,source_member_key,ordered_at,total_amount\nx1,shop,k1,2025-06-01,9.90\n"


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path, str]]:
    """(workspace, a folder to run commands in, a merged member's id) under a server.

    The demo is tests/demo_cache.py's (shared with tests/service/test_console_i18n.py).
    Its key ring is a file in a home of its own, which the server and every command
    share (each test otherwise gets a private home; `privacy rotate-key` rewrites it).
    """
    root = tmp_path_factory.mktemp("readme")
    workspace = root / "demo"
    keys = demo_copy(workspace, members=600, seed=7)
    install_keys(keys, workspace, Path(_home_of(workspace)["XDG_CONFIG_HOME"]))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MEMBERLENS_KEYS", keys)
        with Workspace.open(workspace) as ws:
            merged = ws.warehouse.scalar(
                "SELECT member_id FROM member_map GROUP BY member_id HAVING count(*) > 1 "
                "ORDER BY member_id LIMIT 1"
            )
    assert merged, "the demo holds no merged member"
    here = root / "cwd"
    (here / "exports").mkdir(parents=True)
    (here / "exports" / "orders.csv").write_text(ORDERS, encoding="utf-8")
    (here / "my-shop.toml").write_text(MAPPING, encoding="utf-8")
    (here / "labelled.csv").write_text(LABELLED, encoding="utf-8")
    slices = root / "datasets"
    for source in DATASETS.rglob("*.*"):
        target = slices / source.relative_to(DATASETS)
        target.parent.mkdir(parents=True, exist_ok=True)
        with source.open("rb") as fh:
            target.write_bytes(b"".join(fh.readline() for _ in range(2000)))
    env = {k: v for k, v in os.environ.items() if k != "MEMBERLENS_KEYS"} | _home_of(workspace)
    proc, _ = start_server(workspace, env, capture=False, log=root / "server.log")
    try:
        yield workspace, here, str(merged)
    finally:
        stop_server(proc)


def _home_of(workspace: Path) -> dict[str, str]:
    home = workspace.parent / "home"
    return {"HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config")}


def _runnable(line: str, workspace: Path, datasets: Path, member: str) -> list[str]:
    """README's line with its workspace names, data paths and example ids made real."""
    line = re.sub(r"(\.\./)+shared/datasets", str(datasets), line)
    line = re.sub(r"m_[0-9a-f]{16}", member, line)
    argv = shlex.split(line)
    for flag in ("--workspace", "-w"):
        if flag in argv:
            argv[argv.index(flag) + 1] = str(workspace)
    if argv[0] == "ingest" and "--workspace" not in argv and "-w" not in argv:
        argv += ["--workspace", str(workspace)]  # README runs them inside shop/
    return argv


RUNNABLE = [c for c in COMMANDS if not c.startswith(NOT_WITH_A_SERVER)]


@pytest.mark.parametrize("line", RUNNABLE)
def test_each_readme_command_works_while_the_server_holds_the_workspace(
    served: tuple[Path, Path, str], tmp_path_factory: pytest.TempPathFactory, line: str
) -> None:
    workspace, here, member = served
    datasets = workspace.parent / "datasets"
    argv = _runnable(line, workspace, datasets, member)
    done = memberlens_process.run(
        argv, timeout=540, cwd=here, env={**os.environ, **_home_of(workspace), "COLUMNS": "200"}
    )
    said = done.stdout + done.stderr
    assert "WORKSPACE_LOCKED" not in said, said
    assert done.returncode == 0, f"memberlens {shlex.join(argv)} → {done.returncode}\n{said}"
