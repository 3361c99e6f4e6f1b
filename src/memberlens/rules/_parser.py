"""Recursive-descent parser for the grammar in docs/rules.md (one function per rule).

Depth is bounded (``MAX_DEPTH``) both while descending into parentheses and in the
tree it builds, so hostile input fails with ``TOO_DEEP`` rather than RecursionError.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any, cast

from memberlens.rules._ast import (
    Arg,
    Arith,
    ArithOp,
    Between,
    Call,
    Compare,
    CompareOp,
    Const,
    ConstKind,
    InList,
    IsNull,
    Logic,
    LogicOp,
    Neg,
    Node,
    Not,
    Ref,
)
from memberlens.rules._tokens import Token, tokenize, where
from memberlens.rules.contracts import Duration, RuleCode, RuleError, Value

MAX_DEPTH = 40
COMPARISONS = ("=", "!=", "<>", "<", "<=", ">", ">=")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?")


def parse(text: str) -> Node:
    """The syntax tree of ``text``, or :class:`RuleError` (SYNTAX, BAD_LITERAL, TOO_*).

    >>> parse("spend_365d >= 2000 and orders_365d >= 3").op
    'and'
    """
    return _Parser(text).rule()


def _pos(token: Token) -> dict[str, Any]:
    return {"line": token.line, "column": token.column, "start": token.start}


def _span(first: Node | Token, last: Node | Token, *kids: Node) -> dict[str, Any]:
    depth = 1 + max((k.depth for k in kids), default=0)
    return {
        "line": first.line,
        "column": first.column,
        "start": first.start,
        "end": last.end,
        "depth": depth,
    }


def _describe(token: Token) -> str:
    return "the end of the rule" if token.kind == "EOF" else repr(token.text)


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = tokenize(text)
        self.at = 0
        self.nesting = 0

    # -- helpers -------------------------------------------------------------------
    @property
    def peek(self) -> Token:
        return self.tokens[self.at]

    def next(self) -> Token:
        token = self.tokens[self.at]
        self.at += 1
        return token

    def is_(self, kind: str, *texts: str) -> bool:
        token = self.peek
        return token.kind == kind and (not texts or token.text in texts)

    def accept(self, kind: str, *texts: str) -> Token | None:
        return self.next() if self.is_(kind, *texts) else None

    def fail(self, message: str, token: Token | None = None) -> RuleError:
        token = token or self.peek
        return RuleError(
            f"{message} {where(token.line, token.column)}",
            code=RuleCode.SYNTAX,
            line=token.line,
            column=token.column,
        )

    def expect(self, kind: str, text: str, what: str) -> Token:
        if not self.is_(kind, text):
            raise self.fail(f"expected {what} but found {_describe(self.peek)}")
        return self.next()

    def deeper(self, node: Node) -> Node:
        if node.depth > MAX_DEPTH or self.nesting > MAX_DEPTH:
            raise RuleError(
                f"the rule nests more than {MAX_DEPTH} levels deep "
                f"{where(node.line, node.column)}; simplify it or split it into tags",
                code=RuleCode.TOO_DEEP,
                line=node.line,
                column=node.column,
            )
        return node

    def descend(self, token: Token) -> None:
        """One level deeper, checked before recursing: TOO_DEEP, never RecursionError."""
        self.nesting += 1
        self.deeper(Ref(name="", end=token.end, **_pos(token)))

    # -- grammar -------------------------------------------------------------------
    def rule(self) -> Node:
        if self.is_("EOF"):
            raise self.fail("the rule is empty; write a condition such as spend_365d >= 100")
        node = self.expr()
        if not self.is_("EOF"):
            token = self.peek
            if token.kind == "OP" and token.text in COMPARISONS:
                raise self.fail("comparisons cannot be chained; join them with 'and'")
            raise self.fail(f"unexpected {_describe(token)}; expected 'and', 'or' or the end")
        return node

    def expr(self) -> Node:
        return self.logic("or", self.and_expr)

    def and_expr(self) -> Node:
        return self.logic("and", self.not_expr)

    def logic(self, op: str, operand: Any) -> Node:
        items = [operand()]
        while self.accept("KEYWORD", op):
            items.append(operand())
        if len(items) == 1:
            return cast(Node, items[0])
        return self.deeper(
            Logic(op=cast(LogicOp, op), items=tuple(items), **_span(items[0], items[-1], *items))
        )

    def not_expr(self) -> Node:
        token = self.accept("KEYWORD", "not")
        if token is None:
            return self.predicate()
        self.descend(token)
        operand = self.not_expr()
        self.nesting -= 1
        return self.deeper(Not(operand=operand, **_span(token, operand, operand)))

    def predicate(self) -> Node:
        left = self.sum()
        token = self.peek
        if token.kind == "OP" and token.text in COMPARISONS:
            self.next()
            right = self.sum()
            op = "!=" if token.text == "<>" else token.text
            return self.deeper(
                Compare(
                    op=cast(CompareOp, op),
                    left=left,
                    right=right,
                    **_span(left, right, left, right),
                )
            )
        if self.accept("KEYWORD", "is"):
            negated = self.accept("KEYWORD", "not") is not None
            end = self.expect("KEYWORD", "null", "'null' after 'is' (is null, is not null)")
            return self.deeper(IsNull(operand=left, negated=negated, **_span(left, end, left)))
        negated = self.accept("KEYWORD", "not") is not None
        if self.is_("KEYWORD", "in"):
            return self.in_list(left, negated)
        if self.is_("KEYWORD", "between"):
            return self.between(left, negated)
        if negated:
            raise self.fail("expected 'in' or 'between' after 'not' here")
        return left

    def in_list(self, left: Node, negated: bool) -> Node:
        self.next()
        self.expect("OP", "(", "'(' to open the list after 'in'")
        items = [self.constant()]
        while self.accept("OP", ","):
            if self.is_("OP", ")"):
                break
            items.append(self.constant())
        end = self.expect("OP", ")", "',' or ')' in the list")
        return self.deeper(
            InList(
                operand=left, items=tuple(items), negated=negated, **_span(left, end, left, *items)
            )
        )

    def between(self, left: Node, negated: bool) -> Node:
        self.next()
        low = self.sum()
        self.expect("KEYWORD", "and", "'and' in 'between … and …'")
        high = self.sum()
        return self.deeper(
            Between(
                operand=left,
                low=low,
                high=high,
                negated=negated,
                **_span(left, high, left, low, high),
            )
        )

    def sum(self) -> Node:
        return self.arith(("+", "-"), self.product)

    def product(self) -> Node:
        return self.arith(("*", "/"), self.unary)

    def arith(self, ops: tuple[str, ...], operand: Any) -> Node:
        left: Node = operand()
        while self.is_("OP", *ops):
            op = self.next().text
            right: Node = operand()
            left = self.deeper(
                Arith(
                    op=cast(ArithOp, op), left=left, right=right, **_span(left, right, left, right)
                )
            )
        return left

    def unary(self) -> Node:
        token = self.accept("OP", "-")
        if token is None:
            return self.primary()
        if self.is_("NUMBER") or self.is_("DURATION"):
            return self.negative(token, self.next())
        self.descend(token)
        operand = self.unary()
        self.nesting -= 1
        return self.deeper(Neg(operand=operand, **_span(token, operand, operand)))

    def primary(self) -> Node:
        token = self.peek
        if token.kind == "NAME":
            self.next()
            if self.is_("OP", "("):
                return self.call(token)
            return Ref(name=token.text, end=token.end, **_pos(token))
        if self.accept("OP", "("):
            self.descend(token)
            node = self.expr()
            self.nesting -= 1
            self.expect("OP", ")", "')' to close the '(' " + where(token.line, token.column))
            return node
        if self.is_literal():
            return self.literal()
        raise self.fail(f"expected a name, a value or '(' but found {_describe(token)}")

    def is_literal(self) -> bool:
        return self.peek.kind in ("NUMBER", "DURATION", "STRING") or self.is_(
            "KEYWORD", "true", "false", "null", "date", "timestamp"
        )

    def call(self, name: Token) -> Node:
        self.next()
        args: list[Arg] = []
        while not self.is_("OP", ")"):
            args.append(self.argument(named_seen=any(a.name for a in args)))
            if not self.accept("OP", ","):
                break
        end = self.expect("OP", ")", "',' or ')' in the arguments of " + name.text)
        return Call(name=name.text, args=tuple(args), end=end.end, **_pos(name))

    def argument(self, named_seen: bool) -> Arg:
        first = self.peek
        label: str | None = None
        if first.kind == "NAME" and self.tokens[self.at + 1].text == ":":
            if "." in first.text:
                raise self.fail(f"{first.text!r} is not a parameter name")
            label = first.text
            self.at += 2
        elif named_seen:
            raise self.fail("a positional argument cannot follow named ones; name it (name: value)")
        value = self.constant()
        return Arg(name=label, value=value, end=value.end, **_pos(first))

    def constant(self) -> Const:
        minus = self.accept("OP", "-")
        if minus is not None:
            if not (self.is_("NUMBER") or self.is_("DURATION")):
                raise self.fail("expected a number or a duration after '-'")
            return self.negative(minus, self.next())
        if not self.is_literal():
            raise self.fail(
                f'expected a value (number, "text", true, false, date(…), 7d) '
                f"but found {_describe(self.peek)}"
            )
        return self.literal()

    def negative(self, minus: Token, token: Token) -> Const:
        value = token.value
        negated = (
            Duration(-value.amount, value.unit)
            if isinstance(value, Duration)
            else -cast(float, value)
        )
        kind: ConstKind = "duration" if token.kind == "DURATION" else "number"
        return Const(value=negated, kind=kind, end=token.end, **_pos(minus))

    def literal(self) -> Const:
        token = self.next()
        at = {"end": token.end, **_pos(token)}
        if token.kind in ("NUMBER", "DURATION", "STRING"):
            kind = {"NUMBER": "number", "DURATION": "duration", "STRING": "string"}[token.kind]
            return Const(value=cast(Value, token.value), kind=cast(ConstKind, kind), **at)
        if token.text in ("true", "false"):
            return Const(value=token.text == "true", kind="boolean", **at)
        if token.text == "null":
            return Const(value=None, kind="null", **at)
        return self.dated(token)

    def dated(self, keyword: Token) -> Const:
        self.expect("OP", "(", f"'(' after {keyword.text}")
        literal = self.peek
        if literal.kind != "STRING":
            raise self.fail(
                f'expected a quoted {keyword.text} such as {keyword.text}("2025-01-31")'
            )
        self.next()
        end = self.expect("OP", ")", f"')' after the {keyword.text}")
        text = cast(str, literal.value)
        value = _read_date(text) if keyword.text == "date" else _read_timestamp(text)
        if value is None:
            shape = "YYYY-MM-DD" if keyword.text == "date" else "YYYY-MM-DD HH:MM[:SS], UTC"
            raise RuleError(
                f"{text!r} is not a {keyword.text} ({shape}) {where(literal.line, literal.column)}",
                code=RuleCode.BAD_LITERAL,
                line=literal.line,
                column=literal.column,
            )
        return Const(value=value, kind=keyword.text, end=end.end, **_pos(keyword))  # type: ignore[arg-type]


def _read_date(text: str) -> date | None:
    if not _DATE.fullmatch(text):
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def _read_timestamp(text: str) -> datetime | None:
    if not _TIMESTAMP.fullmatch(text):
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None
