"""The tokenizer: rule text to tokens, each with its line, column and offset.

Lexical rules are those of docs/rules.md (``name``, ``number``, ``duration``,
``string``, operators). Keywords match case-insensitively; names are case-sensitive.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from memberlens.rules.contracts import KEYWORDS, Duration, RuleCode, RuleError

MAX_LENGTH = 20_000  # characters; a rule is a sentence, not a program
TokenKind = Literal["NAME", "KEYWORD", "NUMBER", "DURATION", "STRING", "OP", "EOF"]
OPERATORS = ("<=", ">=", "!=", "<>", "=", "<", ">", "+", "-", "*", "/", "(", ")", ",", ":")
# Operators people bring from other languages, and what to write instead.
_HINTS = {"==": "=", "&&": "and", "||": "or", "!": "not"}
_ESCAPES = {'"': '"', "'": "'", "\\": "\\", "n": "\n", "t": "\t", "r": "\r"}
_UNITS = "hdwy"


@dataclass(frozen=True)
class Token:
    kind: TokenKind
    text: str  # as written (keywords lower-cased)
    value: object  # str, int | float, Duration, or None
    line: int
    column: int
    start: int  # offsets into the rule text, for quoting operands in messages
    end: int


def where(line: int, column: int) -> str:
    return f"at line {line}, column {column}"


def tokenize(text: str) -> list[Token]:
    """Split ``text`` into tokens ending with EOF, or raise :class:`RuleError`."""
    if len(text) > MAX_LENGTH:
        raise RuleError(
            f"the rule is {len(text):,} characters long; the limit is {MAX_LENGTH:,} — "
            "split it into tags or segments that refer to each other",
            code=RuleCode.TOO_LONG,
            line=1,
            column=1,
        )
    return _Lexer(text).run()


class _Lexer:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.line = 1
        self.line_start = 0
        self.tokens: list[Token] = []

    def fail(self, message: str, pos: int, code: RuleCode = RuleCode.SYNTAX) -> RuleError:
        line = self.text.count("\n", 0, pos) + 1
        column = pos - (self.text.rfind("\n", 0, pos) + 1) + 1
        return RuleError(f"{message} {where(line, column)}", code=code, line=line, column=column)

    def emit(self, kind: TokenKind, start: int, value: object, text: str | None = None) -> None:
        line = self.text.count("\n", 0, start) + 1
        column = start - (self.text.rfind("\n", 0, start) + 1) + 1
        raw = self.text[start : self.pos] if text is None else text
        self.tokens.append(Token(kind, raw, value, line, column, start, self.pos))

    def run(self) -> list[Token]:
        text = self.text
        while self.pos < len(text):
            char = text[self.pos]
            if char.isspace():
                self.pos += 1
            elif char.isdigit() and char.isascii():
                self.number()
            elif char.isidentifier():
                self.word()
            elif char in "\"'":
                self.string(char)
            else:
                self.operator()
        self.emit("EOF", self.pos, None, "")
        return self.tokens

    def operator(self) -> None:
        start = self.pos
        for hint, instead in _HINTS.items():
            if self.text.startswith(hint, start) and not self.text.startswith("!=", start):
                raise self.fail(f"'{hint}' is not an operator here; write '{instead}'", start)
        for op in OPERATORS:
            if self.text.startswith(op, start):
                self.pos += len(op)
                self.emit("OP", start, op)
                return
        shown = self.text[start]
        what = "'.'" if shown == "." else repr(shown)
        raise self.fail(f"unexpected character {what}", start)

    def word(self) -> None:
        start = self.pos
        self.pos = _scan_name(self.text, start)
        word = self.text[start : self.pos]
        if word.endswith("."):
            raise self.fail(f"the name {word!r} ends with a dot", start)
        parts = word.split(".")
        if len(parts) == 1 and word.lower() in KEYWORDS:
            self.emit("KEYWORD", start, word.lower(), word.lower())
            return
        for part in parts:
            if part.lower() in KEYWORDS:
                raise self.fail(f"{part!r} is a reserved word and cannot be part of a name", start)
        self.emit("NAME", start, word)

    def number(self) -> None:
        start, text = self.pos, self.text
        self.pos = _scan_digits(text, start)
        if self.pos < len(text) and text[self.pos] in _UNITS and not _name_char(text, self.pos + 1):
            digits = text[start : self.pos]
            self.pos += 1
            amount = int(digits) if len(digits) <= 6 else 10**6
            if amount > 100_000:
                raise self.fail(
                    f"the duration {text[start : self.pos]} is too long",
                    start,
                    RuleCode.BAD_LITERAL,
                )
            self.emit("DURATION", start, Duration(amount, text[self.pos - 1]))  # type: ignore[arg-type]
            return
        if text.startswith(".", self.pos) and _digit(text, self.pos + 1):
            self.pos = _scan_digits(text, self.pos + 1)
        if self.pos < len(text) and text[self.pos] in "eE":
            after = (
                self.pos + 2 if text[self.pos + 1 : self.pos + 2] in ("+", "-") else self.pos + 1
            )
            if _digit(text, after):
                self.pos = _scan_digits(text, after)
        if _name_char(text, self.pos):
            raise self.fail(
                f"{text[start : self.pos + 1]!r} is neither a number nor a duration "
                "(durations are whole numbers with h, d, w or y: 7d)",
                start,
            )
        self.emit("NUMBER", start, self._number_value(text[start : self.pos], start))

    def _number_value(self, raw: str, start: int) -> int | float:
        if "." not in raw and "e" not in raw.lower() and len(raw) <= 15:
            return int(raw)
        value = float(raw) if len(raw) <= 400 else math.inf
        if not math.isfinite(value):
            raise self.fail(f"the number {raw[:20]}… is too large", start, RuleCode.BAD_LITERAL)
        return int(value) if value.is_integer() and abs(value) < 2**53 else value

    def string(self, quote: str) -> None:
        start, text = self.pos, self.text
        self.pos += 1
        out: list[str] = []
        while True:
            if self.pos >= len(text):
                raise self.fail(f"this string has no closing {quote}", start)
            char = text[self.pos]
            if char == quote:
                self.pos += 1
                break
            if char == "\\":
                char = self._escape()
                self.pos -= 1
            if char == "\x00" or "\ud800" <= char <= "\udfff":
                raise self.fail(
                    "a string may not hold a NUL or a lone surrogate character",
                    self.pos,
                    RuleCode.BAD_LITERAL,
                )
            out.append(char)
            self.pos += 1
        self.emit("STRING", start, "".join(out))

    def _escape(self) -> str:
        at, text = self.pos, self.text
        code = text[at + 1 : at + 2]
        if code in _ESCAPES:
            self.pos += 2
            return _ESCAPES[code]
        digits = text[at + 2 : at + 6]
        if code == "u" and len(digits) == 4 and all(c in "0123456789abcdefABCDEF" for c in digits):
            self.pos += 6
            return chr(int(digits, 16))
        raise self.fail(
            f"unknown escape '\\{code}' in a string "
            "(use \\\", \\', \\\\, \\n, \\t, \\r or \\uXXXX)",
            at,
            RuleCode.BAD_LITERAL,
        )


def _digit(text: str, pos: int) -> bool:
    return pos < len(text) and text[pos].isascii() and text[pos].isdigit()


def _name_char(text: str, pos: int) -> bool:
    return pos < len(text) and ("a" + text[pos]).isidentifier()


def _scan_digits(text: str, pos: int) -> int:
    while _digit(text, pos):
        pos += 1
    return pos


def _scan_name(text: str, pos: int) -> int:
    """A name runs over identifier characters and single dots between parts."""
    pos += 1
    while pos < len(text):
        inner_dot = text[pos] == "." and pos + 1 < len(text) and text[pos + 1].isidentifier()
        if _name_char(text, pos) or inner_dot:
            pos += 1
        elif text[pos] == ".":
            return pos + 1  # a trailing dot: reported by the caller
        else:
            break
    return pos
