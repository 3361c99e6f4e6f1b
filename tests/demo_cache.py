"""Demo workspaces built once, then copied: many test files read a refreshed demo.

``memberlens demo`` (generate, ingest, fit the models, refresh) takes tens of seconds
even at a few hundred members; several test files read such a workspace and none of
them changes what the demo builds. :func:`demo_copy` builds each (members, seed) once
into ``test-artifacts/cache/demo/`` — keyed by the package's source and the demo's
arguments, so a change of code builds afresh — and gives each caller a copy of its
own to write in. Parallel test processes (pytest-xdist) share the cache: the first
to ask builds under a file lock while the others wait for it.

The workspace's personal data is encrypted with a key ring made for the build; the
caller gets it back to set as ``MEMBERLENS_KEYS`` (the copy carries no key file), or
has it written where a home's config folder keeps it (:func:`install_keys`: commands
that rewrite the ring, such as ``privacy rotate-key``, refuse one from the variable).
"""

from __future__ import annotations

import fcntl
import hashlib
import shutil
import tempfile
import tomllib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from memberlens.demo import run_demo
from memberlens.privacy import KeyRing, default_key_file
from tests.conftest import REPO

CACHE = REPO / "test-artifacts" / "cache" / "demo"
SOURCE = REPO / "src" / "memberlens"


def source_key() -> str:
    """A digest of every file of the package (its code, templates, presets, messages)."""
    digest = hashlib.sha256()
    for path in sorted(SOURCE.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(str(path.relative_to(SOURCE)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _built(members: int, seed: int) -> Path:
    """The cached build of ``(members, seed)`` for this source, built if missing."""
    name = f"{members}-{seed}"
    cached = CACHE / f"{name}-{source_key()}"
    with _locked(CACHE / f"{name}.lock"):
        if (cached / "keys.json").is_file():
            return cached
        for stale in CACHE.glob(f"{name}-{'?' * 16}"):  # this build of older code
            if stale.is_dir():
                shutil.rmtree(stale, ignore_errors=True)
        keys = KeyRing.generate().to_json()
        with tempfile.TemporaryDirectory(dir=CACHE, prefix=f".{name}-") as scratch:
            workspace = Path(scratch) / "ws"
            with pytest.MonkeyPatch.context() as mp:
                mp.setenv("MEMBERLENS_KEYS", keys)
                run_demo(workspace, members=members, seed=seed)
            cached.mkdir()
            workspace.rename(cached / "ws")
        (cached / "keys.json").write_text(keys, encoding="utf-8")  # last: marks it done
    return cached


def demo_copy(target: Path, *, members: int, seed: int) -> str:
    """A refreshed demo of ``members`` at ``target`` (a fresh copy of the cached
    build); the key ring to set as ``MEMBERLENS_KEYS`` to open it."""
    cached = _built(members, seed)
    shutil.copytree(cached / "ws", target)
    return (cached / "keys.json").read_text(encoding="utf-8")


def install_keys(keys: str, workspace: Path, config_home: Path) -> Path:
    """Write ``keys`` as ``workspace``'s key file under ``config_home`` (what
    ``XDG_CONFIG_HOME`` names); the file's path."""
    settings = tomllib.loads((workspace / "memberlens.toml").read_text(encoding="utf-8"))
    with pytest.MonkeyPatch.context() as mp:  # the product's own layout under that home
        mp.setenv("XDG_CONFIG_HOME", str(config_home))
        target = default_key_file(settings["workspace"]["id"])
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(keys, encoding="utf-8")
    return target
