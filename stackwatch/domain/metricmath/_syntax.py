"""Metric math text to a tree: a tokenizer and a Pratt parser, nothing else.

Grammar, in full (binding power rises down the table; all binary operators are left-associative except
``^``, which is right-associative; unary ``-`` binds tighter than ``*`` but looser than ``^``, so
``-2^2`` is ``-(2^2)``)::

    expr      := expr OR expr | expr AND expr          OR is also ||, AND also &&
               | expr (== | != | < | <= | > | >=) expr
               | expr (+ | -) expr | expr (* | /) expr
               | - expr | expr ^ expr | primary
    primary   := NUMBER | STRING | NAME | NAME "(" [expr ("," expr)*] ")"
               | "[" [expr ("," expr)*] "]" | "(" expr ")"
    NUMBER    := 12 | 1.5 | .5 | 1e3
    STRING    := 'text' | "text"                        no escapes
    NAME      := [A-Za-z_][A-Za-z0-9_]*                 lowercase first: a query Id;
                                                        otherwise a function or keyword (REPEAT, ASC...)

Every node remembers the offset where it starts, so later stages can point at the culprit.
Errors raise :class:`SyntaxProblem` with a 1-based position; :mod:`._plan` turns it into the
AWS error naming the query.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


class SyntaxProblem(Exception):
    """The expression text does not parse; ``str()`` is the message with its position."""

    def __init__(self, message: str, pos: int) -> None:
        super().__init__(f"{message} at position {pos + 1}")
        self.pos = pos


@dataclass(frozen=True, slots=True)
class Number:
    """A numeric literal."""

    value: float
    pos: int


@dataclass(frozen=True, slots=True)
class String:
    """A quoted string literal (function arguments only: METRICS, SEARCH)."""

    value: str
    pos: int


@dataclass(frozen=True, slots=True)
class Name:
    """A bare name: a query Id (lowercase first letter) or a keyword such as REPEAT or DESC."""

    name: str
    pos: int

    @property
    def is_id(self) -> bool:
        """True for a query Id, which CloudWatch requires to start with a lowercase letter."""
        return self.name[0].islower()


@dataclass(frozen=True, slots=True)
class Call:
    """``NAME(args)``."""

    name: str
    args: tuple[Node, ...]
    pos: int


@dataclass(frozen=True, slots=True)
class Array:
    """``[a, b, ...]``: an array of time series."""

    items: tuple[Node, ...]
    pos: int


@dataclass(frozen=True, slots=True)
class Unary:
    """``-operand``."""

    op: str
    operand: Node
    pos: int


@dataclass(frozen=True, slots=True)
class Binary:
    """``left op right``; ``op`` is normalised (``&&`` → ``AND``, ``||`` → ``OR``)."""

    op: str
    left: Node
    right: Node
    pos: int


Node = Number | String | Name | Call | Array | Unary | Binary

_TOKEN = re.compile(
    r"""(?P<ws>\s+)
      | (?P<num>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
      | (?P<str>'[^']*'|"[^"]*")
      | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
      | (?P<op>==|!=|<=|>=|&&|\|\||[-+*/^<>()\[\],])""",
    re.VERBOSE,
)
_KEYWORD_OPS = {"AND": "AND", "OR": "OR", "&&": "AND", "||": "OR"}
#: Left binding power of each binary operator.
_BINARY = {"OR": 10, "AND": 20, "==": 30, "!=": 30, "<": 30, "<=": 30, ">": 30, ">=": 30,
           "+": 40, "-": 40, "*": 50, "/": 50, "^": 70}
_UNARY_POWER = 60
#: Deepest tree accepted (nesting of parentheses, arguments and operands, a chain ``a+b+c`` counting
#: one level per operator): the 2,048 characters CloudWatch allows could otherwise build a tree
#: deeper than the planner and evaluator can recurse into.
MAX_DEPTH = 200
_EOF = "end of expression"


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # num | str | name | op | eof
    text: str
    pos: int


def _tokenize(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    pos = 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None:
            if text[pos] in "'\"":
                raise SyntaxProblem("Unterminated string", pos)
            raise SyntaxProblem(f"Unexpected character {text[pos]!r}", pos)
        kind = match.lastgroup or ""
        if kind != "ws":
            word = match.group()
            if kind == "name" and word in _KEYWORD_OPS or kind == "op" and word in _KEYWORD_OPS:
                tokens.append(_Token("op", _KEYWORD_OPS[word], pos))
            else:
                tokens.append(_Token(kind, word, pos))
        pos = match.end()
    tokens.append(_Token("eof", _EOF, len(text)))
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokenize(text)
        self.index = 0
        self.depth = 0

    def peek(self) -> _Token:
        return self.tokens[self.index]

    def take(self) -> _Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def expect(self, text: str) -> _Token:
        token = self.take()
        if token.text != text or token.kind not in ("op",):
            raise SyntaxProblem(f"Expected '{text}' but found {_describe(token)}", token.pos)
        return token

    def expression(self, min_power: int = 0) -> Node:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise SyntaxProblem("Expression nested too deeply", self.peek().pos)
        try:
            return self.operators(self.prefix(), min_power)
        finally:
            self.depth -= 1

    def operators(self, left: Node, min_power: int) -> Node:
        while True:
            token = self.peek()
            power = _BINARY.get(token.text) if token.kind == "op" else None
            if power is None or power <= min_power:
                return left
            self.take()
            # ^ is right-associative: its right side may hold another ^.
            right = self.expression(power - 1 if token.text == "^" else power)
            left = Binary(token.text, left, right, token.pos)

    def prefix(self) -> Node:
        token = self.take()
        if token.kind == "num":
            return Number(float(token.text), token.pos)
        if token.kind == "str":
            return String(token.text[1:-1], token.pos)
        if token.kind == "name":
            if self.peek().text == "(" and self.peek().kind == "op":
                self.take()
                return Call(token.text, self.items(")"), token.pos)
            return Name(token.text, token.pos)
        if token.kind == "op" and token.text == "-":
            return Unary("-", self.expression(_UNARY_POWER), token.pos)
        if token.kind == "op" and token.text == "(":
            inner = self.expression()
            self.expect(")")
            return inner
        if token.kind == "op" and token.text == "[":
            return Array(self.items("]"), token.pos)
        raise SyntaxProblem(f"Unexpected {_describe(token)}", token.pos)

    def items(self, closer: str) -> tuple[Node, ...]:
        """Comma-separated expressions up to ``closer`` (already past the opener)."""
        found: list[Node] = []
        if self.peek().kind == "op" and self.peek().text == closer:
            self.take()
            return ()
        while True:
            found.append(self.expression())
            token = self.take()
            if token.kind == "op" and token.text == closer:
                return tuple(found)
            if not (token.kind == "op" and token.text == ","):
                raise SyntaxProblem(f"Expected ',' or '{closer}' but found {_describe(token)}", token.pos)


def _describe(token: _Token) -> str:
    return _EOF if token.kind == "eof" else f"'{token.text}'"


def parse(text: str) -> Node:
    """Parse one metric math expression.

    Raises:
        SyntaxProblem: the text is not an expression; the message names the 1-based position.
    """
    parser = _Parser(text)
    if parser.peek().kind == "eof":
        raise SyntaxProblem("Empty expression", 0)
    node = parser.expression()
    token = parser.peek()
    if token.kind != "eof":
        raise SyntaxProblem(f"Unexpected {_describe(token)}", token.pos)
    _check_depth(node)
    return node


def _check_depth(root: Node) -> None:
    """Refuse a tree deeper than :data:`MAX_DEPTH`, walking it without recursion."""
    stack: list[tuple[Node, int]] = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise SyntaxProblem("Expression nested too deeply", node.pos)
        children: tuple[Node, ...] = ()
        if isinstance(node, Call):
            children = node.args
        elif isinstance(node, Array):
            children = node.items
        elif isinstance(node, Unary):
            children = (node.operand,)
        elif isinstance(node, Binary):
            children = (node.left, node.right)
        stack.extend((child, depth + 1) for child in children)
