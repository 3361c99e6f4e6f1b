"""Mapping files: how a source file's shape becomes canonical tables.

A mapping is TOML. ``[read]`` says how to read the file; ``[tables.<name>]`` says,
for each canonical column, where its value comes from. A column's value is either a
source column name, or a table with one of ``column`` / ``const`` / ``template`` /
``row_id`` / ``sequence_within`` and optional ``format``, ``map`` and ``default``.
One mapping may fill several tables from one row (a purchase row becomes an order
and an order line). See docs/mappings.md.
"""

from __future__ import annotations

import codecs
import re
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator, model_validator

from memberlens.core.errors import ConfigError, UsageError
from memberlens.schema import RAW_TABLES

FileFormat = Literal["auto", "csv", "whitespace", "parquet", "jsonl"]
_TEMPLATE_FIELD = re.compile(r"\{([^{}]+)\}")


class ColumnSpec(BaseModel):
    """Where one canonical column's value comes from."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    column: str | None = None
    const: str | None = None
    template: str | None = None
    row_id: bool = False
    sequence_within: str | None = None
    format: str | None = None  # strptime format, "unix" or "unix_ms"
    map: dict[str, str] = {}
    default: str | None = None

    @model_validator(mode="after")
    def _one_origin(self) -> ColumnSpec:
        origins = [
            self.column is not None,
            self.const is not None,
            self.template is not None,
            self.row_id,
            self.sequence_within is not None,
        ]
        if sum(origins) != 1:
            raise ValueError("give exactly one of column, const, template, row_id, sequence_within")
        return self

    @property
    def template_fields(self) -> list[str]:
        return _TEMPLATE_FIELD.findall(self.template or "")


class ReadSpec(BaseModel):
    """How to read the file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    format: FileFormat = "auto"
    header: bool = True
    columns: list[str] | None = None
    delimiter: str | None = None
    encoding: str = "auto"
    timezone: str | None = None

    @field_validator("encoding")
    @classmethod
    def _known_codec(cls, value: str) -> str:
        if value != "auto":
            try:
                codecs.lookup(value)
            except LookupError:
                raise ValueError(
                    f"unknown encoding '{value}' (auto, utf-8, gb18030, big5, utf-16, ...)"
                ) from None
        return value


class WindowSpec(BaseModel):
    """Rows of the primary table outside [start, end) are kept and flagged."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    start: str
    end: str


class Mapping(BaseModel):
    """A whole mapping file."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = "custom"
    description: str = ""
    source: str | None = None
    kind: str | None = None
    read: ReadSpec = ReadSpec()
    window: WindowSpec | None = None
    tables: dict[str, dict[str, ColumnSpec]] = {}

    @field_validator("tables", mode="before")
    @classmethod
    def _strings_are_columns(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        return {
            table: {
                col: {"column": spec} if isinstance(spec, str) else spec
                for col, spec in (cols or {}).items()
            }
            for table, cols in value.items()
        }

    @model_validator(mode="after")
    def _known_names(self) -> Mapping:
        for table, cols in self.tables.items():
            if table not in RAW_TABLES:
                raise ValueError(f"unknown table '{table}' (known: {', '.join(RAW_TABLES)})")
            spec = RAW_TABLES[table]
            known = set(spec.names) | set(spec.identifier_columns)
            for col in cols:
                if col not in known:
                    raise ValueError(
                        f"table '{table}' has no column '{col}' "
                        f"(columns: {', '.join(sorted(known))})"
                    )
        if self.kind is not None and self.tables and self.kind not in self.tables:
            raise ValueError(f"kind '{self.kind}' is not one of the mapped tables")
        return self

    def targets(self, kind: str) -> tuple[str, list[str]]:
        """Return (primary table, all tables this file fills) for ``ingest KIND``."""
        if kind not in RAW_TABLES:
            raise UsageError(f"unknown kind '{kind}'; choose one of: {', '.join(RAW_TABLES)}")
        if not self.tables:
            return kind, [kind]
        if kind not in self.tables:
            raise UsageError(
                f"mapping '{self.name}' fills {', '.join(self.tables)}, not {kind}; "
                f"run `memberlens ingest {next(iter(self.tables))} ...` instead"
            )
        primary = self.kind or kind
        # Parents first, so that derived tables (orders) exist before their lines.
        order = list(RAW_TABLES)
        return primary, sorted(self.tables, key=order.index)


def parse_mapping(text: str, *, origin: str, name: str = "custom") -> Mapping:
    """Parse mapping TOML; errors name the file and the setting to fix."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{origin}: {exc}; fix the TOML syntax") from exc
    data.setdefault("name", name)
    try:
        return Mapping(**data)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "(top level)"
        raise ConfigError(f"{origin}: {where}: {err['msg']}; see docs/mappings.md") from exc


def load_mapping(path: Path) -> Mapping:
    if not path.is_file():
        raise UsageError(f"mapping file {path} does not exist")
    return parse_mapping(path.read_text(encoding="utf-8"), origin=str(path), name=path.stem)


def preset_names() -> list[str]:
    folder = resources.files("memberlens.ingest") / "presets"
    return sorted(
        p.name.removesuffix(".toml") for p in folder.iterdir() if p.name.endswith(".toml")
    )


def load_preset(name: str) -> Mapping:
    """Load a mapping shipped with memberlens (``--preset NAME``)."""
    names = preset_names()
    if name not in names:
        raise UsageError(f"unknown preset '{name}'; available presets: {', '.join(names)}")
    text = (resources.files("memberlens.ingest") / "presets" / f"{name}.toml").read_text(
        encoding="utf-8"
    )
    return parse_mapping(text, origin=f"preset {name}", name=name)
