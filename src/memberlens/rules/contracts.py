"""What crosses the rules boundary: names, functions, values and the one error type."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Literal, get_args

import ibis
import ibis.expr.types as ir

from memberlens.core.errors import MemberlensError

ValueType = Literal["number", "string", "boolean", "date", "timestamp"]
ParamType = Literal["number", "string", "boolean", "date", "timestamp", "duration"]
DurationUnit = Literal["h", "d", "w", "y"]
VALUE_TYPES: tuple[str, ...] = get_args(ValueType)
PARAM_TYPES: tuple[str, ...] = get_args(ParamType)

# Reserved words of the grammar (matched case-insensitively); no name part may be one.
KEYWORDS = frozenset(
    {"and", "or", "not", "in", "between", "is", "null", "true", "false", "date", "timestamp"}
)


class RuleCode(StrEnum):
    """Stable machine codes of :class:`RuleError`."""

    SYNTAX = "SYNTAX"  # the text does not follow the grammar
    BAD_LITERAL = "BAD_LITERAL"  # a malformed date, escape or out-of-range number
    TOO_DEEP = "TOO_DEEP"  # nesting beyond MAX_DEPTH
    TOO_LONG = "TOO_LONG"  # text beyond MAX_LENGTH characters
    UNKNOWN_NAME = "UNKNOWN_NAME"
    UNKNOWN_FUNCTION = "UNKNOWN_FUNCTION"
    TYPE_MISMATCH = "TYPE_MISMATCH"
    BAD_ARGUMENT = "BAD_ARGUMENT"  # missing, unknown, repeated or mistyped argument
    CYCLE = "CYCLE"  # a definition that reaches itself
    BAD_CATALOGUE = "BAD_CATALOGUE"  # the program's catalogue or member table is wrong


class RuleError(MemberlensError, ValueError):
    """A rule that cannot be saved or run, with where and why.

    ``line`` and ``column`` are 1-based (None when the problem has no position, such
    as a catalogue conflict); ``suggestions`` holds the nearest valid names;
    ``path`` holds the definitions of a cycle, first name repeated last.
    """

    code = RuleCode.SYNTAX.value

    def __init__(
        self,
        message: str,
        *,
        code: RuleCode,
        line: int | None = None,
        column: int | None = None,
        suggestions: tuple[str, ...] = (),
        path: tuple[str, ...] = (),
    ) -> None:
        super().__init__(message, code=code.value)
        self.line = line
        self.column = column
        self.suggestions = suggestions
        self.path = path


def _bad(message: str) -> RuleError:
    return RuleError(message, code=RuleCode.BAD_CATALOGUE)


def check_name(name: str) -> None:
    """Refuse a catalogue name the grammar could not read back.

    >>> check_name("prediction.churn_risk")
    >>> check_name("tag.in")
    Traceback (most recent call last):
    ...
    memberlens.rules.contracts.RuleError: 'tag.in' is not a valid rule name: ...
    """
    parts = name.split(".")
    for part in parts:
        if not part.isidentifier() or part.lower() in KEYWORDS:
            raise _bad(
                f"{name!r} is not a valid rule name: each dot-separated part must be a "
                f"letter or _ followed by letters, digits or _, and not one of "
                f"{', '.join(sorted(KEYWORDS))}"
            )


def column_of(name: str) -> str:
    """The member-table column that holds a name: dots become double underscores.

    >>> column_of("prediction.churn_risk")
    'prediction__churn_risk'
    """
    return name.replace(".", "__")


@dataclass(frozen=True)
class Duration:
    """A duration literal such as ``7d``: an amount of hours, days, weeks or years."""

    amount: int
    unit: DurationUnit

    def to_ibis(self) -> ir.IntervalScalar:
        """The Ibis interval (years are calendar years: Feb 29 + 1y = Feb 28)."""
        unit = {"h": "hours", "d": "days", "w": "weeks", "y": "years"}[self.unit]
        return ibis.interval(**{unit: self.amount})

    def __str__(self) -> str:
        return f"{self.amount}{self.unit}"


# A constant as the rule wrote it: numbers are int when integral, else float.
Value = int | float | str | bool | date | datetime | Duration


@dataclass(frozen=True)
class NameSpec:
    """A name rules may use, its type and what it means.

    ``source`` says where the value comes from, by convention one of ``attribute``,
    ``feature``, ``tag``, ``tier``, ``points``, ``prediction``, ``segment``.
    """

    name: str
    type: ValueType
    description: str
    unit: str | None = None
    source: str = "feature"

    def __post_init__(self) -> None:
        check_name(self.name)
        if self.type not in VALUE_TYPES:
            raise _bad(f"{self.name}: type {self.type!r} is not one of {', '.join(VALUE_TYPES)}")

    @property
    def column(self) -> str:
        return column_of(self.name)


@dataclass(frozen=True)
class Param:
    """A function parameter; optional ones take ``default`` (None: not given)."""

    name: str
    type: ParamType
    required: bool = False
    default: Value | None = None
    description: str = ""

    def __post_init__(self) -> None:
        if not self.name.isidentifier() or self.name.lower() in KEYWORDS:
            raise _bad(f"parameter name {self.name!r} is not a plain identifier")
        if self.type not in PARAM_TYPES:
            raise _bad(f"parameter {self.name}: type {self.type!r} is not one of {PARAM_TYPES}")


# compile(member_table, arguments) -> an Ibis value over the member table, one row each.
FunctionCompiler = Callable[[ir.Table, Mapping[str, Value | None]], ir.Value]


@dataclass(frozen=True)
class FunctionSpec:
    """A function rules may call, e.g. ``viewed(category: "baby", within: 7d)``.

    Arguments are constants; ``compile`` receives them by parameter name (defaults
    filled in) and returns an Ibis expression of type ``returns`` over the member table.
    """

    name: str
    params: tuple[Param, ...]
    returns: ValueType
    description: str
    compile: FunctionCompiler = field(compare=False)

    def __post_init__(self) -> None:
        check_name(self.name)
        if self.returns not in VALUE_TYPES:
            raise _bad(f"{self.name}: returns {self.returns!r}, not one of {VALUE_TYPES}")
        names = [p.name for p in self.params]
        if len(set(names)) != len(names):
            raise _bad(f"{self.name}: a parameter name is repeated in {names}")

    def param(self, name: str) -> Param | None:
        return next((p for p in self.params if p.name == name), None)
