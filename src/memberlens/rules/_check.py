"""The type checker: names and functions resolved in the catalogue, types per docs/rules.md.

Run at save time: it needs the catalogue but no data. It returns a copy of the tree
with every node's ``vtype`` set, which is what :func:`compile_rule` compiles.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import cast

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
    walk,
)
from memberlens.rules._catalogue import Catalogue
from memberlens.rules._parser import parse
from memberlens.rules._tokens import where
from memberlens.rules.contracts import (
    Duration,
    FunctionSpec,
    RuleCode,
    RuleError,
    Value,
    ValueType,
)

_ORDERED = ("number", "date", "timestamp")  # types <, <=, >, >= and between accept
_TIMES = frozenset({"date", "timestamp"})


@dataclass(frozen=True)
class CheckedRule:
    """A rule that parsed and type-checked against a catalogue: safe to save and compile."""

    text: str
    tree: Node
    type: ValueType
    names: frozenset[str]  # catalogue names the rule reads
    functions: frozenset[str]  # functions it calls


def check(text: str, catalogue: Catalogue, *, expect: ValueType | None = "boolean") -> CheckedRule:
    """Parse and type-check ``text``; raise :class:`RuleError` with line and column.

    ``expect`` is the type the whole rule must have (``boolean`` for tags, segments,
    conditions and filters; None accepts any type).

    >>> from memberlens.rules import NameSpec
    >>> c = Catalogue.of([NameSpec("spend_365d", "number", "Money spent")])
    >>> check("spend_365d >= 2000", c).names
    frozenset({'spend_365d'})
    """
    tree = _Checker(text, catalogue).visit(parse(text))
    if expect is not None and tree.vtype != expect:
        raise RuleError(
            f"a rule must be {_A[expect]}, but this one is {_A[tree.vtype]} "
            f"{where(tree.line, tree.column)}; compare it, e.g. {_example(expect, tree, text)}",
            code=RuleCode.TYPE_MISMATCH,
            line=tree.line,
            column=tree.column,
        )
    nodes = walk(tree)
    return CheckedRule(
        text=text,
        tree=tree,
        type=cast(ValueType, tree.vtype),
        names=frozenset(n.name for n in nodes if isinstance(n, Ref)),
        functions=frozenset(n.name for n in nodes if isinstance(n, Call)),
    )


_A = {
    "boolean": "true or false",
    "number": "a number",
    "string": "a string",
    "date": "a date",
    "timestamp": "a timestamp",
    "duration": "a duration",
}


def _example(expect: str, tree: Node, text: str) -> str:
    shown = _snippet(tree, text)
    return f"{shown} >= 1" if tree.vtype == "number" else f'{shown} = "…"'


def _snippet(node: Node, text: str) -> str:
    shown = text[node.start : node.end]
    return shown if len(shown) <= 40 else shown[:37] + "..."


def _mismatch(message: str, node: Node) -> RuleError:
    return RuleError(
        f"{message} {where(node.line, node.column)}",
        code=RuleCode.TYPE_MISMATCH,
        line=node.line,
        column=node.column,
    )


def _comparable(a: str, b: str) -> bool:
    return (a == b and a != "duration") or {a, b} == _TIMES


class _Checker:
    def __init__(self, text: str, catalogue: Catalogue) -> None:
        self.text = text
        self.catalogue = catalogue

    def show(self, node: Node) -> str:
        return f"{node.vtype} {_snippet(node, self.text)}"

    def visit(self, node: Node) -> Node:
        method = getattr(self, "visit_" + type(node).__name__.lower())
        return cast(Node, method(node))

    def visit_const(self, node: Const) -> Node:
        if node.kind == "null":
            raise _mismatch(
                "null is not a value to compute or compare with; write "
                "'name is null' or 'name is not null'",
                node,
            )
        return replace(node, vtype=node.kind)

    def visit_ref(self, node: Ref) -> Node:
        spec = self.catalogue.get(node.name)
        if spec is None:
            near = self.catalogue.nearest(node.name)
            hint = (
                f"did you mean {', '.join(near)}?"
                if near
                else "check its spelling in the catalogue of names"
            )
            raise RuleError(
                f"unknown name {node.name!r} {where(node.line, node.column)}; {hint}",
                code=RuleCode.UNKNOWN_NAME,
                line=node.line,
                column=node.column,
                suggestions=near,
            )
        return replace(node, vtype=spec.type)

    def visit_neg(self, node: Neg) -> Node:
        operand = self.visit(node.operand)
        if operand.vtype != "number":
            raise _mismatch(f"cannot negate {self.show(operand)} (only numbers)", node)
        return replace(node, operand=operand, vtype="number")

    def visit_not(self, node: Not) -> Node:
        operand = self.boolean(node.operand, "not")
        return replace(node, operand=operand, vtype="boolean")

    def visit_logic(self, node: Logic) -> Node:
        items = tuple(self.boolean(item, node.op) for item in node.items)
        return replace(node, items=items, vtype="boolean")

    def boolean(self, node: Node, op: str) -> Node:
        checked = self.visit(node)
        if checked.vtype != "boolean":
            raise _mismatch(
                f"'{op}' needs true or false, but {self.show(checked)} is "
                f"{_A[checked.vtype]}; compare it (e.g. >= 1)",
                checked,
            )
        return checked

    def visit_arith(self, node: Arith) -> Node:
        left, right = self.visit(node.left), self.visit(node.right)
        result = _arith_type(node.op, left, right)
        if result is None:
            verb = {"+": "add", "-": "subtract", "*": "multiply", "/": "divide"}[node.op]
            raise _mismatch(f"cannot {verb} {self.show(left)} and {self.show(right)}", node)
        return replace(node, left=left, right=right, vtype=result)

    def visit_compare(self, node: Compare) -> Node:
        left, right = self.visit(node.left), self.visit(node.right)
        if not _comparable(left.vtype, right.vtype):
            raise _mismatch(f"cannot compare {self.show(left)} with {self.show(right)}", node)
        if node.op not in ("=", "!=") and left.vtype not in _ORDERED:
            raise _mismatch(
                f"{left.vtype}s can only be compared with = and != (or in), not {node.op}", node
            )
        return replace(node, left=left, right=right, vtype="boolean")

    def visit_inlist(self, node: InList) -> Node:
        operand = self.visit(node.operand)
        items = []
        for item in node.items:
            if item.kind == "null":
                raise _mismatch("null never matches in a list; write 'name is null' instead", item)
            checked = self.visit(item)
            if not _comparable(operand.vtype, checked.vtype):
                raise _mismatch(
                    f"cannot compare {self.show(operand)} with {self.show(checked)}", checked
                )
            items.append(cast(Const, checked))
        return replace(node, operand=operand, items=tuple(items), vtype="boolean")

    def visit_between(self, node: Between) -> Node:
        operand, low, high = (self.visit(n) for n in (node.operand, node.low, node.high))
        if operand.vtype not in _ORDERED:
            raise _mismatch(
                f"between needs a number, date or timestamp, not {self.show(operand)}", node
            )
        for bound in (low, high):
            if not _comparable(operand.vtype, bound.vtype):
                raise _mismatch(
                    f"cannot compare {self.show(operand)} with {self.show(bound)}", bound
                )
        return replace(node, operand=operand, low=low, high=high, vtype="boolean")

    def visit_isnull(self, node: IsNull) -> Node:
        operand = self.visit(node.operand)
        return replace(node, operand=operand, vtype="boolean")

    def visit_call(self, node: Call) -> Node:
        spec = self.catalogue.function(node.name)
        if spec is None:
            near = self.catalogue.nearest_function(node.name)
            hint = (
                f"did you mean {', '.join(near)}?" if near else "see the functions in docs/rules.md"
            )
            raise RuleError(
                f"unknown function {node.name!r} {where(node.line, node.column)}; {hint}",
                code=RuleCode.UNKNOWN_FUNCTION,
                line=node.line,
                column=node.column,
                suggestions=near,
            )
        return replace(node, bound=_bind(node, spec, self.text), vtype=spec.returns)


def _arith_type(op: str, left: Node, right: Node) -> str | None:
    pair = (left.vtype, right.vtype)
    if pair == ("number", "number"):
        return "number"
    if op == "-" and pair == ("date", "date"):
        return "number"  # whole days between them
    if op in "+-" and pair[0] in _TIMES and pair[1] == "duration":
        return _shifted(pair[0], right)
    if op == "+" and pair[1] in _TIMES and pair[0] == "duration":
        return _shifted(pair[1], left)
    return None


def _shifted(kind: str, duration: Node) -> str | None:
    hours = isinstance(duration, Const) and cast(Duration, duration.value).unit == "h"
    return None if kind == "date" and hours else kind


def _bind(node: Call, spec: FunctionSpec, text: str) -> tuple[tuple[str, Value | None], ...]:
    """Match the call's arguments to the parameters: positional first, then by name."""
    given: dict[str, Value | None] = {}
    for index, arg in enumerate(node.args):
        name = arg.name if arg.name is not None else _positional(spec, index, arg)
        param = spec.param(name)
        if param is None:
            near = tuple(p.name for p in spec.params if p.name.startswith(name[:3]))
            raise _arg_error(
                f"{spec.name} has no parameter {name!r}; its parameters are {_signature(spec)}",
                arg,
                near,
            )
        if name in given:
            raise _arg_error(f"the argument {name} of {spec.name} is given twice", arg)
        if arg.value.kind == "null":
            raise _arg_error(f"{spec.name}: leave {name} out rather than passing null", arg)
        if param.type != arg.value.kind:
            raise _arg_error(
                f"{spec.name}: {name} takes {_A.get(param.type, param.type)}, "
                f"not {arg.value.kind} {_snippet(arg.value, text)}",
                arg,
            )
        given[name] = arg.value.value
    for param in spec.params:
        if param.required and param.name not in given:
            raise _arg_error(
                f"{spec.name} needs {param.name} ({param.type}): {_signature(spec)}", node
            )
    return tuple((p.name, given.get(p.name, p.default)) for p in spec.params)


def _positional(spec: FunctionSpec, index: int, arg: Node) -> str:
    if index >= len(spec.params):
        raise _arg_error(
            f"{spec.name} takes at most {len(spec.params)} arguments: {_signature(spec)}", arg
        )
    return spec.params[index].name


def _signature(spec: FunctionSpec) -> str:
    shown = ", ".join(f"{p.name}: {p.type}" + ("" if p.required else "?") for p in spec.params)
    return f"{spec.name}({shown})"


def _arg_error(message: str, node: Node, near: tuple[str, ...] = ()) -> RuleError:
    return RuleError(
        f"{message} {where(node.line, node.column)}",
        code=RuleCode.BAD_ARGUMENT,
        line=node.line,
        column=node.column,
        suggestions=near,
    )
