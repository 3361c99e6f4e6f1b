"""The model registry: versions, stages and content-addressed artifacts (DESIGN: Models).

Every fitted model becomes a row ``(name, version)`` in the state DB and a JSON file
``models/<sha256>.json`` in the workspace, named by the sha256 of its bytes: the same
model written twice is one file, and a file changed after the fact is refused when
loaded. Artifacts are plain JSON (never pickle), so loading one cannot run code.

Stages: a new version is ``production`` when its name has no production version yet
(the first model of a workspace serves at once) and ``candidate`` otherwise;
promoting a version retires the production version it replaces; retired versions
stay listed with their artifacts.
"""

from __future__ import annotations

import hashlib
import json
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from memberlens.core.clock import utc_now
from memberlens.core.errors import InputError, MemberlensError, UsageError
from memberlens.registry.contracts import STAGES, RegisteredModel
from memberlens.store import ModelRegistryRow, StateStore

MODELS_DIR = "models"


class ModelNotFoundError(MemberlensError, LookupError):
    """No registry entry (or artifact) with that name and version."""

    code = "MODEL_NOT_FOUND"


def canonical_json(data: dict[str, Any]) -> bytes:
    """Bytes that depend only on the content: sorted keys, no spacing, UTF-8."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def artifact_digest(data: dict[str, Any]) -> str:
    """The sha256 an artifact of ``data`` is stored under (to tell a model already
    registered from a new one without writing it)."""
    return hashlib.sha256(canonical_json(data)).hexdigest()


def write_artifact(root: Path, data: dict[str, Any]) -> tuple[str, str]:
    """Write ``data`` as ``models/<sha256>.json`` under ``root``; return (sha256, path)."""
    body = canonical_json(data)
    digest = hashlib.sha256(body).hexdigest()
    relative = f"{MODELS_DIR}/{digest}.json"
    target = root / relative
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(".json.part")
        partial.write_bytes(body)
        partial.replace(target)  # readers never see half a file
    return digest, relative


def read_artifact(root: Path, entry: RegisteredModel) -> dict[str, Any]:
    """The artifact of ``entry``, after checking its bytes still hash to its name."""
    path = root / entry.artifact_path
    if not path.is_file():
        raise ModelNotFoundError(
            f"the artifact of {entry.name} v{entry.version} is missing ({path}); refit "
            "the model or restore the workspace's models/ folder"
        )
    body = path.read_bytes()
    if hashlib.sha256(body).hexdigest() != entry.artifact_sha256:
        raise InputError(
            f"the artifact {path} does not match its sha256 (changed after it was "
            "written); restore it from a backup or refit the model",
            code="ARTIFACT_TAMPERED",
        )
    data: dict[str, Any] = json.loads(body)
    return data


def register_model(
    state: StateStore,
    root: Path,
    *,
    name: str,
    artifact: dict[str, Any],
    params: dict[str, Any],
    metrics: dict[str, Any],
    window: tuple[date | None, date | None],
    data_fingerprint: str,
) -> RegisteredModel:
    """Record a fitted model as the next version of ``name`` (stage: see module doc)."""
    digest, relative = write_artifact(root, artifact)
    with state.session() as s, s.begin():
        latest = s.scalar(
            select(func.max(ModelRegistryRow.version)).where(ModelRegistryRow.name == name)
        )
        serving = s.scalar(
            select(func.count())
            .select_from(ModelRegistryRow)
            .where(ModelRegistryRow.name == name, ModelRegistryRow.stage == "production")
        )
        row = ModelRegistryRow(
            name=name,
            version=int(latest or 0) + 1,
            stage="candidate" if serving else "production",
            created_at=utc_now().replace(tzinfo=None),
            training_window_start=window[0],
            training_window_end=window[1],
            params=json.dumps(params, sort_keys=True),
            metrics=json.dumps(metrics, sort_keys=True),
            data_fingerprint=data_fingerprint,
            artifact_sha256=digest,
            artifact_path=relative,
        )
        s.add(row)
        s.flush()
        return _entry(row)


def register_production(
    state: StateStore,
    root: Path,
    *,
    name: str,
    artifact: dict[str, Any],
    params: dict[str, Any],
    metrics: dict[str, Any],
    window: tuple[date | None, date | None],
    data_fingerprint: str,
) -> RegisteredModel:
    """Record a model that is used at once: the new version is promoted (the previous
    production version retired) — unless the production version is this very model
    (same artifact, data and metrics), which is then returned, not recorded twice."""
    try:
        serving = get_model(state, name)
    except ModelNotFoundError:
        serving = None
    same = (artifact_digest(artifact), data_fingerprint, json.loads(json.dumps(metrics)))
    if (
        serving is not None
        and (
            serving.artifact_sha256,
            serving.data_fingerprint,
            serving.metrics,
        )
        == same
    ):
        return serving
    entry = register_model(
        state,
        root,
        name=name,
        artifact=artifact,
        params=params,
        metrics=metrics,
        window=window,
        data_fingerprint=data_fingerprint,
    )
    return entry if entry.stage == "production" else promote(state, name, entry.version)


def list_models(state: StateStore, *, name: str | None = None) -> list[RegisteredModel]:
    """Registry entries, by name then newest version first."""
    query = select(ModelRegistryRow).order_by(
        ModelRegistryRow.name, ModelRegistryRow.version.desc()
    )
    if name is not None:
        query = query.where(ModelRegistryRow.name == name)
    with state.session() as s:
        return [_entry(row) for row in s.scalars(query)]


def get_model(state: StateStore, name: str, version: int | None = None) -> RegisteredModel:
    """``name`` at ``version``, or its production version when ``version`` is None."""
    with state.session() as s:
        if version is not None:
            row = s.get(ModelRegistryRow, (name, version))
        else:
            row = s.scalar(
                select(ModelRegistryRow).where(
                    ModelRegistryRow.name == name, ModelRegistryRow.stage == "production"
                )
            )
    if row is None:
        which = f"version {version}" if version is not None else "production version"
        raise ModelNotFoundError(f"model {name!r} has no {which}; see `memberlens models list`")
    return _entry(row)


def promote(state: StateStore, name: str, version: int) -> RegisteredModel:
    """Make ``name`` v``version`` the production version; retire the one it replaces."""
    return _set_stage(state, name, version, "production")


def retire(state: StateStore, name: str, version: int) -> RegisteredModel:
    """Take ``name`` v``version`` out of service (its row and artifact stay)."""
    return _set_stage(state, name, version, "retired")


def _set_stage(state: StateStore, name: str, version: int, stage: str) -> RegisteredModel:
    if stage not in STAGES:
        raise UsageError(f"unknown stage {stage!r}; one of {', '.join(STAGES)}")
    with state.session() as s, s.begin():
        row = s.get(ModelRegistryRow, (name, version))
        if row is None:
            raise ModelNotFoundError(
                f"model {name!r} has no version {version}; see `memberlens models list`"
            )
        if stage == "production":
            current = s.scalars(
                select(ModelRegistryRow).where(
                    ModelRegistryRow.name == name,
                    ModelRegistryRow.stage == "production",
                    ModelRegistryRow.version != version,
                )
            )
            for other in current:
                other.stage = "retired"
        row.stage = stage
        s.flush()
        return _entry(row)


def _entry(row: ModelRegistryRow) -> RegisteredModel:
    return RegisteredModel(
        name=row.name,
        version=row.version,
        stage=row.stage,
        created_at=row.created_at,
        training_window_start=row.training_window_start,
        training_window_end=row.training_window_end,
        params=json.loads(row.params),
        metrics=json.loads(row.metrics),
        data_fingerprint=row.data_fingerprint,
        artifact_sha256=row.artifact_sha256,
        artifact_path=row.artifact_path,
    )
