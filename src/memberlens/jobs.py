"""Scheduled work for the server's job runner: the watched folder and the daily refresh.

The watched folder holds one subfolder per kind (``inbox/orders/``, ``inbox/events/``,
...). A file there is imported once it has stopped changing, through the ordinary
ingest path (same validation, quarantine, identity and encryption as
``memberlens ingest``), then moved to ``<kind>/done/``; a file that cannot be read at
all moves to ``<kind>/failed/`` beside a ``.reason.txt`` that says why. Every import
is recorded in ``job_runs``. Nothing here decides *when*: the runner does.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from memberlens.core.clock import utc_now
from memberlens.core.errors import MemberlensError
from memberlens.ingest import (
    IngestRequest,
    Mapping,
    ingest_file,
    load_mapping,
    load_preset,
    parse_mapping,
)
from memberlens.schema import RAW_TABLES
from memberlens.store import finish_job, recent_jobs, start_job
from memberlens.workspace import Workspace

WATCH_JOB = "import watched"
READABLE = (".csv", ".tsv", ".txt", ".parquet", ".jsonl", ".ndjson", ".json")
MAPPING_FILE = "mapping.toml"
# A file still being copied in changes size or time: wait until it has been quiet this long.
SETTLE_SECONDS = 2.0


@dataclass(frozen=True)
class WatchedImport:
    kind: str
    file: str
    moved_to: str
    ok: bool
    detail: dict[str, Any]


def watch_root(ws: Workspace) -> Path | None:
    folder = ws.settings.jobs.watch_folder
    return (ws.root / folder) if folder else None


def prepare_watch_folder(ws: Workspace) -> None:
    """Create the kind subfolders so that people see where files go."""
    root = watch_root(ws)
    if root is None:
        return
    for kind in RAW_TABLES:
        (root / kind).mkdir(parents=True, exist_ok=True)


def _ready_files(folder: Path, now: float) -> list[Path]:
    files = [
        p
        for p in sorted(folder.iterdir())
        if p.is_file()
        and not p.name.startswith(".")
        and p.suffix.lower() in READABLE
        and now - p.stat().st_mtime >= SETTLE_SECONDS
    ]
    return files


def _mapping_for(ws: Workspace, kind: str, folder: Path) -> Mapping:
    own = folder / MAPPING_FILE
    if own.is_file():
        return load_mapping(own)
    preset = ws.settings.jobs.presets.get(kind)
    if preset:
        return load_preset(preset)
    return parse_mapping("", origin="(watched folder)", name="none")


def _move(file: Path, into: Path) -> Path:
    into.mkdir(exist_ok=True)
    stamp = utc_now().strftime("%Y%m%dT%H%M%S")
    target = into / f"{stamp}-{file.name}"
    file.replace(target)
    return target


def _import_one(ws: Workspace, kind: str, file: Path) -> WatchedImport:
    run_id = start_job(ws.state, WATCH_JOB, {"kind": kind, "file": file.name})
    try:
        request = IngestRequest(
            kind=kind,
            path=file,
            mapping=_mapping_for(ws, kind, file.parent),
            timezone=ws.settings.workspace.default_timezone,
        )
        result = ingest_file(ws.warehouse, ws.keyring, request)
    except MemberlensError as exc:
        # The message names the problem and the fix; personal values in it are masked.
        moved = _move(file, file.parent / "failed")
        moved.with_name(moved.name + ".reason.txt").write_text(exc.message + "\n", "utf-8")
        detail = {"error": exc.message, "code": exc.code}
        finish_job(ws.state, run_id, status="failed", detail=detail)
        return WatchedImport(kind, file.name, str(moved), False, detail)
    moved = _move(file, file.parent / "done")
    finish_job(ws.state, run_id, status="succeeded", detail=result.to_json())
    return WatchedImport(kind, file.name, str(moved), True, result.to_json())


def import_watched(ws: Workspace) -> list[WatchedImport]:
    """Import every settled file in the watched folder, kind by kind in schema order."""
    root = watch_root(ws)
    if root is None or not root.is_dir():
        return []
    now = time.time()
    done: list[WatchedImport] = []
    for kind in RAW_TABLES:  # catalogue and members before the rows that point at them
        folder = root / kind
        if folder.is_dir():
            done += [_import_one(ws, kind, f) for f in _ready_files(folder, now)]
    return done


def refresh_due(ws: Workspace, *, job: str = "refresh") -> bool:
    """Whether the daily refresh (``[jobs] refresh_at``) should run now.

    Due when today's time in the workspace's zone has passed ``refresh_at`` and no
    refresh has started since that moment.
    """
    at = ws.settings.jobs.refresh_at
    if not at:
        return False
    zone = ZoneInfo(ws.settings.workspace.default_timezone)
    now = utc_now().astimezone(zone)
    hour, minute = (int(part) for part in at.split(":"))
    slot = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if now < slot:
        slot -= timedelta(days=1)
    last = recent_jobs(ws.state, job=job, limit=1)
    if not last:
        return True
    started = last[0].started_at.replace(tzinfo=ZoneInfo("UTC"))
    return started < slot.astimezone(ZoneInfo("UTC"))
