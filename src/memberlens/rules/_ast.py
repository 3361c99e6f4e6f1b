"""The syntax tree: frozen nodes that remember where they stand in the text.

The checker returns a copy of the tree with ``vtype`` set on every node (and
``bound`` on calls); the compiler reads only checked trees.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from memberlens.rules.contracts import Value

ArithOp = Literal["+", "-", "*", "/"]
CompareOp = Literal["=", "!=", "<", "<=", ">", ">="]
LogicOp = Literal["and", "or"]
ConstKind = Literal["number", "string", "boolean", "date", "timestamp", "duration", "null"]


@dataclass(frozen=True, kw_only=True)
class Node:
    line: int
    column: int
    start: int  # offsets of the node's text in the rule
    end: int
    depth: int = 1  # nesting depth of the subtree (and/or lists count once)
    vtype: str = ""  # the value type, set by the checker


@dataclass(frozen=True, kw_only=True)
class Const(Node):
    value: Value | None
    kind: ConstKind


@dataclass(frozen=True, kw_only=True)
class Ref(Node):
    name: str


@dataclass(frozen=True, kw_only=True)
class Arg(Node):
    name: str | None  # None: positional
    value: Const


@dataclass(frozen=True, kw_only=True)
class Call(Node):
    name: str
    args: tuple[Arg, ...]
    bound: tuple[tuple[str, Value | None], ...] = ()  # every parameter, defaults filled


@dataclass(frozen=True, kw_only=True)
class Neg(Node):
    operand: Node


@dataclass(frozen=True, kw_only=True)
class Not(Node):
    operand: Node


@dataclass(frozen=True, kw_only=True)
class Logic(Node):
    op: LogicOp
    items: tuple[Node, ...]


@dataclass(frozen=True, kw_only=True)
class Arith(Node):
    op: ArithOp
    left: Node
    right: Node


@dataclass(frozen=True, kw_only=True)
class Compare(Node):
    op: CompareOp
    left: Node
    right: Node


@dataclass(frozen=True, kw_only=True)
class InList(Node):
    operand: Node
    items: tuple[Const, ...]
    negated: bool


@dataclass(frozen=True, kw_only=True)
class Between(Node):
    operand: Node
    low: Node
    high: Node
    negated: bool


@dataclass(frozen=True, kw_only=True)
class IsNull(Node):
    operand: Node
    negated: bool


def children(node: Node) -> tuple[Node, ...]:
    """The direct sub-expressions of ``node``, in text order."""
    if isinstance(node, Neg | Not | IsNull):
        return (node.operand,)
    if isinstance(node, Logic):
        return node.items
    if isinstance(node, Arith | Compare):
        return (node.left, node.right)
    if isinstance(node, InList):
        return (node.operand, *node.items)
    if isinstance(node, Between):
        return (node.operand, node.low, node.high)
    if isinstance(node, Call):
        return tuple(arg.value for arg in node.args)
    return ()


def walk(node: Node) -> list[Node]:
    """Every node of the tree, parents before children (iterative: no recursion limit)."""
    out: list[Node] = []
    stack = [node]
    while stack:
        current = stack.pop()
        out.append(current)
        stack.extend(reversed(children(current)))
    return out
