"""Shared fixtures: every test gets its own HOME, key ring and workspace."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings

from memberlens.workspace import Workspace, init_workspace

REPO = Path(__file__).resolve().parents[1]
DATASETS = REPO.parent / "shared" / "datasets"

# Every test has its own HOME, so the user's cache would be a new folder each time: the
# built-in sentiment model is fitted once per checkout instead, and kept beside it.
os.environ.setdefault("MEMBERLENS_CACHE_DIR", str(REPO / "test-artifacts" / "cache"))

# Property tests replay the same examples on every run, so the same code gives the
# same verdict in CI; `HYPOTHESIS_PROFILE=explore make test` searches afresh (do it
# when you change a parser or a rule) and pins what it finds with @example.
hypothesis_settings.register_profile("repeatable", derandomize=True)
hypothesis_settings.register_profile("explore", derandomize=False)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))

requires_datasets = pytest.mark.skipif(
    not DATASETS.is_dir(),
    reason=f"the shared data sets are not at {DATASETS} (clone the project beside shared/)",
)


@pytest.fixture(autouse=True)
def _isolated_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Key rings go to a private config folder per test, never the real home."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    for var in ("MEMBERLENS_KEYS", "MEMBERLENS_WORKSPACE", "MEMBERLENS_NOW"):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture
def workspace_dir(tmp_path: Path) -> Path:
    root = tmp_path / "ws"
    init_workspace(root)
    return root


@pytest.fixture
def workspace(workspace_dir: Path) -> Iterator[Workspace]:
    with Workspace.open(workspace_dir) as ws:
        yield ws
