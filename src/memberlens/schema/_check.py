"""Checking one row in Python: the request-path twin of ingest's SQL validation.

The API validates each item as it arrives (the request path never waits on the
warehouse); files are validated in the engine. Both follow the same column specs,
and a property test keeps them in agreement.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from memberlens.schema._normalise import normalise_phone
from memberlens.schema._tables import REFUND_STATUSES
from memberlens.schema.contracts import Check, Column, ColumnType, Table

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
_TRUE = {"true", "t", "1", "yes", "y"}
_FALSE = {"false", "f", "0", "no", "n"}


@dataclass(frozen=True)
class RowProblem:
    column: str
    reason: str


class _Bad(ValueError):
    pass


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _parse(col: Column, value: Any) -> Any:
    """Typed value or ``_Bad``; ``None`` for a missing value."""
    if isinstance(value, dict) and col.type is ColumnType.JSON:
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    text = _text(value)
    if text is None:
        return None
    kind = col.type
    try:
        if col.check is Check.PHONE:
            phone = normalise_phone(text)
            if phone is None:
                raise _Bad("a phone number (a mainland 11-digit mobile, or E.164)")
            return phone
        if kind is ColumnType.STRING:
            return text.lower() if col.allowed or col.check is Check.EMAIL else text
        if kind is ColumnType.INTEGER:
            if isinstance(value, bool) or not re.fullmatch(r"[+-]?\d+", text):
                raise _Bad("a whole number")
            return int(text)
        if kind is ColumnType.DECIMAL:
            return Decimal(text).quantize(Decimal("0.01"))
        if kind is ColumnType.FLOAT:
            return float(text)
        if kind is ColumnType.BOOLEAN:
            if text.lower() in _TRUE or value is True:
                return True
            if text.lower() in _FALSE or value is False:
                return False
            raise _Bad("true or false")
        if kind is ColumnType.DATE:
            return date.fromisoformat(text)
        if kind is ColumnType.TIMESTAMP:
            stamp = datetime.fromisoformat(text.replace("Z", "+00:00"))
            # The API speaks UTC: a time without an offset is taken as UTC.
            return stamp.astimezone(UTC).replace(tzinfo=None) if stamp.tzinfo else stamp
        loaded = json.loads(text)
        if not isinstance(loaded, dict):
            raise _Bad("a JSON object")
        return text
    except (InvalidOperation, ValueError, OverflowError) as exc:
        raise _Bad(str(exc) if isinstance(exc, _Bad) else f"a valid {kind.value}") from exc


def check_row(
    table: Table, row: dict[str, Any], *, today: date
) -> tuple[dict[str, Any], list[RowProblem]]:
    """Typed canonical values and the problems found (empty when the row is valid)."""
    unknown = sorted(set(row) - set(table.names) - set(table.identifier_columns))
    problems = [RowProblem(c, f"{c} is not a column of {table.name}") for c in unknown]
    clean: dict[str, Any] = {}
    for col in table.columns:
        if col.derived:
            continue
        try:
            clean[col.name] = _parse(col, row.get(col.name))
        except _Bad as bad:
            shown = "…" if col.personal else repr(_text(row.get(col.name)))
            problems.append(RowProblem(col.name, f"{col.name}: {shown} is not {bad}"))
            continue
        problems += _value_problems(table, col, clean[col.name], clean, today)
    for ident in table.identifier_columns:
        if _text(row.get(ident)) is not None:
            clean[ident] = _text(row.get(ident))
    if (
        table.name == "events"
        and not clean.get("source_member_key")
        and not clean.get("anonymous_id")
    ):
        problems.append(
            RowProblem(
                "source_member_key", "the event has neither source_member_key nor anonymous_id"
            )
        )
    return clean, problems


def _value_problems(
    table: Table, col: Column, value: Any, clean: dict[str, Any], today: date
) -> list[RowProblem]:
    name = col.name
    if value is None:
        return [RowProblem(name, f"{name} is required but empty")] if col.required else []
    if col.allowed and value not in col.allowed:
        return [RowProblem(name, f"{name}: {value!r} is not one of {', '.join(col.allowed)}")]
    if col.check is Check.EMAIL and not EMAIL_RE.match(value):
        return [RowProblem(name, f"{name} is not an e-mail address")]
    if col.check is Check.NON_NEGATIVE and value < 0 and clean.get("status") not in REFUND_STATUSES:
        return [RowProblem(name, f"{name}: {value} is negative (only refunds may be)")]
    if col.check is Check.POSITIVE and value <= 0:
        return [RowProblem(name, f"{name}: {value} must be at least 1")]
    if col.check is Check.RATING_1_5 and not 1 <= value <= 5:
        return [RowProblem(name, f"{name}: {value} is outside 1-5")]
    if col.check is Check.NPS_0_10 and not 0 <= value <= 10:
        return [RowProblem(name, f"{name}: {value} is outside 0-10")]
    if col.check is Check.AGE_0_120:
        age = today.year - value.year - ((today.month, today.day) < (value.month, value.day))
        if not 0 <= age <= 120:
            return [RowProblem(name, f"{name}: gives an age outside 0-120")]
    return []
