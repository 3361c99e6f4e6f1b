"""What crosses the schema boundary: column and table specifications."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class ColumnType(StrEnum):
    """Logical column types; each warehouse engine maps them to its own SQL types."""

    STRING = "string"
    INTEGER = "integer"
    DECIMAL = "decimal"  # money: exact, DECIMAL(18, 2)
    FLOAT = "float"
    BOOLEAN = "boolean"
    DATE = "date"
    TIMESTAMP = "timestamp"  # stored in UTC
    JSON = "json"


class Check(StrEnum):
    """Value checks beyond the type; each names a rule that validation compiles."""

    EMAIL = "email"
    PHONE = "phone"
    NON_NEGATIVE = "non_negative"  # negative allowed only when the row is a refund
    AGE_0_120 = "age_0_120"
    RATING_1_5 = "rating_1_5"
    NPS_0_10 = "nps_0_10"
    POSITIVE = "positive"


@dataclass(frozen=True, slots=True)
class Column:
    """One canonical column.

    ``personal`` columns are encrypted before they reach any store and masked on
    screen; ``derived`` columns are filled by ingest, never read from a source.
    """

    name: str
    type: ColumnType
    description: str
    required: bool = False
    personal: bool = False
    derived: bool = False
    allowed: tuple[str, ...] = ()
    check: Check | None = None
    unit: str = ""


@dataclass(frozen=True, slots=True)
class Table:
    """One canonical raw table: its columns, its natural key and how it links to members."""

    name: str
    description: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    member_keyed: bool = True
    """Rows carry ``source`` + ``source_member_key`` and resolve to members through member_map."""
    time_column: str | None = None
    identifier_columns: tuple[str, ...] = field(default=())
    """Personal identifiers that feed member_identities (not stored in the table itself)."""

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def personal(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.personal)

    @property
    def has_personal(self) -> bool:
        return bool(self.personal) or bool(self.identifier_columns)
