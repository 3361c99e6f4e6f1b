"""Shared fixtures: every test gets its own HOME, key ring and workspace."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

# The suite runs more processes than there are cores (Makefile: TEST_WORKERS), and
# LightGBM, implicit and scikit-learn run OpenMP threads that, by default, spin while
# they wait for work: on 2 cores a churn fit's threads burned a third of its CPU time
# spinning on cores the other test processes needed. Waiting threads sleep instead. Set
# here, before any OpenMP library loads; the workers and every command they start
# inherit it. The same code runs, with the same results; only idle threads yield.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

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


T = TypeVar("T")


def built_once(root: Path, fill: Callable[[Workspace], T]) -> tuple[str, T]:
    """A workspace made at ``root`` with a key ring of its own and filled by ``fill``
    (a module's base, built once): (the key ring, what ``fill`` returned)."""
    from memberlens.privacy import KeyRing

    keys = KeyRing.generate().to_json()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MEMBERLENS_KEYS", keys)
        init_workspace(root)
        with Workspace.open(root) as ws:
            found = fill(ws)
    return keys, found


def copy_of(base: Path, keys: str, target: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A test's own copy of a module's base workspace, opened with its key ring: what
    the test writes no other test sees, as when each test built its own."""
    shutil.copytree(base, target)
    monkeypatch.setenv("MEMBERLENS_KEYS", keys)
    return target
