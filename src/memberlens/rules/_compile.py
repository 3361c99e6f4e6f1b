"""The compiler: a checked tree to one Ibis expression over a per-member table.

Numbers are computed as float64 (no integer or decimal overflow errors at run time;
exact to 15 significant digits, which covers money to the cent below 10^13);
division by zero gives null on every engine; and/or lists compile as balanced trees
so that long lists stay shallow for the SQL compiler.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any, cast

import ibis
import ibis.expr.operations as ops
import ibis.expr.types as ir

from memberlens.rules._ast import (
    Arith,
    Between,
    Call,
    Compare,
    Const,
    InList,
    IsNull,
    Logic,
    Neg,
    Node,
    Not,
    Ref,
)
from memberlens.rules._catalogue import Catalogue
from memberlens.rules._check import CheckedRule, check
from memberlens.rules.contracts import Duration, RuleCode, RuleError, ValueType

# Ibis type families each rule type accepts in the member table.
_FAMILIES: dict[str, Callable[[Any], bool]] = {
    "number": lambda t: t.is_numeric(),
    "string": lambda t: t.is_string(),
    "boolean": lambda t: t.is_boolean(),
    "date": lambda t: t.is_date() or t.is_timestamp(),
    "timestamp": lambda t: t.is_timestamp() or t.is_date(),
}
_CAST = {"number": "float64", "date": "date", "timestamp": "timestamp"}


def compile_rule(
    rule: str | CheckedRule,
    catalogue: Catalogue,
    table: ir.Table,
    *,
    expect: ValueType | None = "boolean",
) -> ir.Value:
    """One Ibis expression over ``table`` (one row per member) computing ``rule``.

    ``table`` must hold a column per name the rule reads, named by
    :func:`~memberlens.rules.column_of` (``prediction.churn_risk`` ->
    ``prediction__churn_risk``); the caller joins what it needs. A boolean rule is
    used as ``table.filter(expr)``: a member is selected only when it is true.

    >>> import ibis
    >>> from memberlens.rules import NameSpec
    >>> c = Catalogue.of([NameSpec("spend_365d", "number", "Money spent")])
    >>> t = ibis.memtable({"member_id": ["a", "b"], "spend_365d": [2500, 10]})
    >>> t.filter(compile_rule("spend_365d >= 2000", c, t)).member_id.to_list()
    ['a']
    """
    checked = rule if isinstance(rule, CheckedRule) else check(rule, catalogue, expect=expect)
    value = _Compiler(catalogue, table).visit(checked.tree)
    if checked.type == "number":
        # A DECIMAL column or a function's decimal result, converted by SQL itself: the
        # conversion on the way out (Arrow's) can land one ulp off (6.406250000000001).
        return value.cast("float64")
    return value


def _balanced(items: Sequence[ir.BooleanValue], op: str) -> ir.BooleanValue:
    if len(items) == 1:
        return items[0]
    half = len(items) // 2
    left, right = _balanced(items[:half], op), _balanced(items[half:], op)
    return left & right if op == "and" else left | right


def _whole(value: ir.Value) -> ir.Value:
    """A boolean operand that stays one operand in SQL (a one-argument COALESCE is the
    identity). Ibis prints NOT, IN and BETWEEN operands without parentheses, so without
    this DuckDB read ``(not vip) is null`` as ``NOT (vip IS NULL)`` and
    ``(a = b) in (true, false)`` as ``a = (b IN (TRUE, FALSE))``."""
    simple = isinstance(value.op(), ops.Field | ops.Literal)
    return ibis.coalesce(value) if value.type().is_boolean() and not simple else value


def number_literal(value: float) -> ir.FloatingScalar:
    """The exact double ``value`` as an Ibis literal; function compilers use it too.

    SQL reads ``0.6`` as DECIMAL(2,1), and arithmetic on it converted to double lands
    one ulp off (0.6000000000000001); parsing the shortest repr gives the exact double.
    """
    number = float(value)
    if number.is_integer():
        return cast(ir.FloatingScalar, ibis.literal(number, type="float64"))
    return cast(ir.FloatingScalar, ibis.literal(repr(number)).cast("float64"))


def _constant(value: object, kind: str) -> ir.Value:
    if kind == "number":
        return number_literal(cast(float, value))
    if kind == "duration":
        return cast(Duration, value).to_ibis()
    if kind == "timestamp":
        return ibis.literal(value, type="timestamp")
    return ibis.literal(value, type=kind)


class _Compiler:
    def __init__(self, catalogue: Catalogue, table: ir.Table) -> None:
        self.catalogue = catalogue
        self.table = table

    def visit(self, node: Node) -> Any:
        return getattr(self, "visit_" + type(node).__name__.lower())(node)

    def visit_const(self, node: Const) -> ir.Value:
        return _constant(node.value, node.kind)

    def visit_ref(self, node: Ref) -> ir.Value:
        column = node.name.replace(".", "__")
        if column not in self.table.columns:
            raise RuleError(
                f"the member table has no column {column!r} for the name {node.name}; "
                "the caller must select or join it before compiling",
                code=RuleCode.BAD_CATALOGUE,
                line=node.line,
                column=node.column,
            )
        return self.typed(self.table[column], node.vtype, f"column {column!r}")

    def typed(self, value: ir.Value, vtype: str, what: str) -> ir.Value:
        if not _FAMILIES[vtype](value.type()):
            raise RuleError(
                f"{what} is {value.type()} but the catalogue says {vtype}",
                code=RuleCode.BAD_CATALOGUE,
            )
        return value.cast(_CAST[vtype]) if vtype in _CAST else value

    def visit_neg(self, node: Neg) -> ir.Value:
        return -self.visit(node.operand)

    def visit_not(self, node: Not) -> ir.Value:
        return ~self.visit(node.operand)

    def visit_logic(self, node: Logic) -> ir.Value:
        return _balanced([self.visit(item) for item in node.items], node.op)

    def visit_arith(self, node: Arith) -> ir.Value:
        left, right = self.visit(node.left), self.visit(node.right)
        if node.left.vtype == "date" and node.right.vtype == "date":
            return left.delta(right, unit="day").cast("float64")
        if node.op == "+":
            return left + right
        if node.op == "-":
            return left - right
        if node.op == "*":
            return left * right
        return left / right.nullif(0.0)  # null, not an error or infinity, on every engine

    def visit_compare(self, node: Compare) -> ir.Value:
        left, right = self.aligned(node.left, node.right)
        ops: dict[str, Callable[[Any, Any], ir.Value]] = {
            "=": lambda a, b: a == b,
            "!=": lambda a, b: a != b,
            "<": lambda a, b: a < b,
            "<=": lambda a, b: a <= b,
            ">": lambda a, b: a > b,
            ">=": lambda a, b: a >= b,
        }
        return ops[node.op](left, right)

    def aligned(self, *nodes: Node) -> list[Any]:
        """Compiled operands; a date meets a timestamp at midnight (UTC)."""
        values = [_whole(self.visit(n)) for n in nodes]
        if {n.vtype for n in nodes} == {"date", "timestamp"}:
            return [
                v.cast("timestamp") if n.vtype == "date" else v
                for v, n in zip(values, nodes, strict=True)
            ]
        return values

    def visit_inlist(self, node: InList) -> ir.Value:
        operand = _whole(self.visit(node.operand))
        kinds = {item.kind for item in node.items} | {node.operand.vtype}
        values: list[object] = [item.value for item in node.items]
        if kinds == {"number"}:
            values = [float(cast(float, v)) for v in values]
        elif kinds >= {"timestamp"}:
            operand = operand.cast("timestamp")
            values = [_midnight(v) for v in values]
        return operand.notin(values) if node.negated else operand.isin(values)

    def visit_between(self, node: Between) -> ir.Value:
        operand, low, high = self.aligned(node.operand, node.low, node.high)
        inside = operand.between(low, high)
        return ~inside if node.negated else inside

    def visit_isnull(self, node: IsNull) -> ir.Value:
        operand = _whole(self.visit(node.operand))
        return operand.notnull() if node.negated else operand.isnull()

    def visit_call(self, node: Call) -> ir.Value:
        spec = self.catalogue.function(node.name)
        assert spec is not None  # the checker resolved it
        value = spec.compile(self.table, dict(node.bound))
        return self.typed(value, spec.returns, f"{node.name}(…)")


def _midnight(value: object) -> object:
    if isinstance(value, date) and not isinstance(value, datetime):
        return datetime(value.year, value.month, value.day)
    return value
