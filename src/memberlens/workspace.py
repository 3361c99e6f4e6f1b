"""A workspace: its settings, warehouse, state database and key ring, opened together.

This is the composition root that the CLI, the server and the pipeline use; the
domains receive the pieces they need as arguments and never open a workspace.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from memberlens import profile, recommend, text
from memberlens.core.clock import utc_now
from memberlens.core.errors import WorkspaceError
from memberlens.core.settings import CONFIG_FILE, Settings, load_settings
from memberlens.privacy import KeyRing, default_key_file, load_key_ring
from memberlens.store import StateStore, Warehouse, sqlite_url


@dataclass
class Workspace:
    """An open workspace. Close it (or use ``with``) to release the warehouse."""

    root: Path
    settings: Settings
    warehouse: Warehouse
    state: StateStore
    keyring: KeyRing
    _scenarios: tuple[int | None, recommend.Scenarios] | None = field(
        default=None, init=False, repr=False
    )

    @classmethod
    def open(cls, root: Path) -> Workspace:
        """Open the workspace at ``root``; inside :func:`lending`, the lent one."""
        root = root.resolve()
        lent = _LENT.get()
        if lent is not None and lent.root == root:
            return _Borrowed(lent)
        settings = load_settings(root)
        keyring = load_key_ring(key_file_for(settings))
        state = StateStore.open(state_url(root, settings))
        try:
            warehouse = Warehouse.open_duckdb(
                root / settings.warehouse.path,
                memory_limit=settings.warehouse.memory_limit,
                threads=settings.warehouse.threads,
            )
        except WorkspaceError as exc:
            state.close()
            exc.root = root
            raise
        warehouse.execute("SET autoinstall_known_extensions = false")
        warehouse.ensure_schema()
        return cls(root, settings, warehouse, state, keyring)

    def tag_book(self) -> profile.TagBook:
        """The tags declared in the workspace's tags file ([tags] file, docs/tags.md)."""
        return profile.load_tag_book(self.root / self.settings.tags.file)

    def scenarios(self) -> recommend.Scenarios:
        """The recommendation scenarios ([recommend] file), re-read when the file changes."""
        path = self.root / self.settings.recommend.file
        stamp = path.stat().st_mtime_ns if path.is_file() else None
        cached = self._scenarios
        if cached is None or cached[0] != stamp:
            cached = (stamp, recommend.load_scenarios(path))
            self._scenarios = cached
        return cached[1]

    def aspects(self) -> tuple[text.Aspect, ...]:
        """The aspect lexicon ([text] aspects_file, docs/text.md); the default one when
        the file is missing."""
        return text.load_aspects(self.root / self.settings.text.aspects_file)

    def close(self) -> None:
        self.warehouse.close()
        self.state.close()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class _Borrowed(Workspace):
    """A workspace lent by its holder: the same connections, and closing it leaves
    them open (the holder closes them)."""

    def __init__(self, lent: Workspace) -> None:
        super().__init__(lent.root, lent.settings, lent.warehouse, lent.state, lent.keyring)

    def close(self) -> None:
        return None


_LENT: ContextVar[Workspace | None] = ContextVar("memberlens_lent_workspace", default=None)


@contextmanager
def lending(ws: Workspace) -> Iterator[None]:
    """Inside, :meth:`Workspace.open` of ``ws``'s folder returns ``ws`` itself instead
    of opening it again — how a server that holds the workspace runs a CLI command
    for a client (embedded DuckDB admits one process; the command runs in it)."""
    token = _LENT.set(ws)
    try:
        yield
    finally:
        _LENT.reset(token)


def open_state(root: Path) -> StateStore:
    """The workspace's state DB alone: open even while a server holds the warehouse."""
    root = root.resolve()
    return StateStore.open(state_url(root, load_settings(root)))


def key_file_for(settings: Settings) -> Path:
    if settings.privacy.key_file:
        return Path(settings.privacy.key_file).expanduser()
    return default_key_file(settings.workspace.id)


def state_url(root: Path, settings: Settings) -> str:
    return settings.state.url or sqlite_url(root / "data" / "state.db")


def init_workspace(root: Path, *, name: str | None = None) -> tuple[Path, bool]:
    """Create a workspace at ``root`` (idempotent). Return (key file, created)."""
    root = root.resolve()
    config = root / CONFIG_FILE
    created = not config.exists()
    if created:
        root.mkdir(parents=True, exist_ok=True)
        template = resources.files("memberlens.core").joinpath("memberlens.toml.template")
        body = template.read_text(encoding="utf-8")
        body = body.replace("@ID@", f"ws_{secrets.token_hex(6)}")
        body = body.replace("@NAME@", name or root.name)
        config.write_text(body, encoding="utf-8")
    tags = root / load_settings(root).tags.file
    if created and not tags.exists():
        tags.write_text(profile.default_tag_book_text(), encoding="utf-8")
    scenarios = root / load_settings(root).recommend.file
    if created and not scenarios.exists():
        scenarios.write_text(recommend.default_scenarios_text(), encoding="utf-8")
    aspects = root / load_settings(root).text.aspects_file
    if created and not aspects.exists():
        aspects.write_text(text.default_aspects_text(), encoding="utf-8")
    (root / "data").mkdir(exist_ok=True)
    settings = load_settings(root)
    key_file = key_file_for(settings)
    if not key_file.exists() and not _env_keys():
        KeyRing.generate().save(key_file)
    with Workspace.open(root) as ws:
        if ws.state.get_meta("workspace_id") is None:
            ws.state.set_meta("workspace_id", settings.workspace.id)
            ws.state.set_meta("created_at", utc_now().isoformat())
    return key_file, created


def _env_keys() -> bool:
    return bool(os.environ.get("MEMBERLENS_KEYS"))
