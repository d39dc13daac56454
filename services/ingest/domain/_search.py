r"""CloudWatch SEARCH expressions: the grammar of ``SEARCH('...', 'Average', 300)``'s first argument.

This module owns the query text of a search (``{AWS/EC2,InstanceId} MetricName="CPUUtilization"``)
and the reference semantics of which metrics it selects. It does not know SEARCH's statistic and
period (metric math's job) nor how the store narrows candidates in SQL (``store.py``); the store's
results are tested equal to :func:`matches`.

::

    query     := [schema [","]] [or_expr]          schema or terms, at least one of the two
    schema    := "{" name ("," name)* "}"          namespace first, then dimension names
    or_expr   := and_expr ("OR" and_expr)*
    and_expr  := not_expr (["AND"] not_expr)*      juxtaposition is AND
    not_expr  := "NOT" not_expr | "(" or_expr ")" | term
    term      := word | "phrase" | property "=" (word | "phrase")
    property  := word | "phrase"                   MetricName, Namespace or a dimension name

Rules, as CloudWatch's user guide gives them (search-expression-syntax):

- The **schema** names the namespace (exactly) and the *exact set* of dimension names a metric
  must have: ``{AWS/EC2}`` is the namespace's metrics without dimensions. The guide asks for
  double quotes around names with spaces or punctuation; this parser needs them only around
  names with white space or one of ``( ) " = { } ,`` (``AWS/EC2`` stays bare, as in every example).
- A **phrase** (``"CPUUtilization"``) matches a metric whose name, namespace, a dimension name or
  a dimension value equals it exactly (case-sensitive). Inside quotes ``\"``, ``\\``, ``\(``, ``\)``
  are escapes.
- A bare **word** is a partial match on *tokens*. A string is tokenized by splitting at every
  non-alphanumeric character, at camel-case boundaries and where digits start or stop
  (``Project2-trial333`` -> ``Project 2 trial 333``; ``SDBFailure`` -> ``SDB Failure``), and its
  *full token* is all its alphanumerics, lower-cased (``project2trial333``). A word matches a
  string when its full token equals the string's, or when its tokens occur consecutively in the
  string's tokens: a token that stands alone between delimiters in the word compares
  case-insensitively (``count``, ``COUNT``, ``network-errors``), tokens of a camel-case or
  digit composite compare case-sensitively (``CustomCount`` and ``Count1`` find ``CustomCount1``;
  ``couNT``, ``count1`` and ``customcount`` do not). A word without alphanumerics matches nothing.
- ``MetricName=``, ``Namespace=`` and ``<dimension name>=`` restrict a word or phrase to that
  property (for a dimension name: that dimension's value).
- ``AND``, ``OR``, ``NOT`` are operators only in upper case (``and`` is a word); NOT binds
  tighter than AND, AND tighter than OR.

CloudWatch caps a search at 1,024 characters of query and 500 metrics with data in the last two
weeks (the store applies the second; see ``MetricStore.search_metrics``). Cross-account
designators (``:aws.AccountId``) are not supported: StackWatch has no monitoring accounts.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from stackwatch import errors

#: Longest search query CloudWatch accepts (characters).
MAX_QUERY = 1024
#: Most metrics one SEARCH returns.
MAX_RESULTS = 500
#: Only metrics with data this recently (seconds) are searched.
ACTIVE_WINDOW = 14 * 86400

METRIC_NAME = "MetricName"
NAMESPACE = "Namespace"
_OPERATORS = ("AND", "OR", "NOT")
_TOKEN = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")
_PART = re.compile(r"[A-Za-z0-9]+")
_WORD_END = frozenset(' \t\r\n\f\v()"=')
_NAME_END = _WORD_END | frozenset("{},")


@dataclass(frozen=True, slots=True)
class Term:
    """One search term.

    Attributes:
        text: the word or phrase, unescaped.
        exact: True for a double-quoted phrase (exact match), False for a word (token match).
        prop: ``MetricName``, ``Namespace``, a dimension name, or None for any property.
    """

    text: str
    exact: bool
    prop: str | None = None


@dataclass(frozen=True, slots=True)
class And:
    """Every operand matches."""

    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Or:
    """Some operand matches."""

    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Not:
    """The operand does not match."""

    item: Node


Node = Term | And | Or | Not


@dataclass(frozen=True, slots=True)
class SearchFilter:
    """A parsed search query.

    Attributes:
        namespace: the schema's namespace, or None without a schema.
        dimension_names: the schema's dimension names, sorted and distinct (None without a schema).
        expr: the search terms, or None when the schema alone selects.
    """

    namespace: str | None
    dimension_names: tuple[str, ...] | None
    expr: Node | None


# --- tokens --------------------------------------------------------------------------------------

def tokens(s: str) -> list[tuple[str, bool]]:
    """The tokens of ``s`` in order, each with whether it stands alone between delimiters.

    >>> tokens("Project2-trial333")
    [('Project', False), ('2', False), ('trial', False), ('333', False)]
    """
    out: list[tuple[str, bool]] = []
    for part in _PART.findall(s):
        found = _TOKEN.findall(part)
        alone = len(found) == 1
        out.extend((t, alone) for t in found)
    return out


def full_token(s: str) -> str:
    """All the alphanumerics of ``s``, lower-cased: its whole-string token."""
    return "".join(_PART.findall(s)).lower()


def word_matches(word: str, s: str) -> bool:
    """Whether the bare search word ``word`` partially matches the string ``s`` (module rules)."""
    want = full_token(word)
    if not want:
        return False
    if want == full_token(s):
        return True
    pattern = tokens(word)
    have = [t for t, _ in tokens(s)]
    n = len(pattern)
    for i in range(len(have) - n + 1):
        if all(h.lower() == p.lower() if alone else h == p
               for (p, alone), h in zip(pattern, have[i:i + n], strict=True)):
            return True
    return False


# --- the reference semantics ---------------------------------------------------------------------

def _term_matches(t: Term, namespace: str, metric_name: str, dimensions: Sequence[tuple[str, str]]) -> bool:
    def hit(s: str) -> bool:
        return s == t.text if t.exact else word_matches(t.text, s)

    if t.prop is None:
        return (hit(namespace) or hit(metric_name)
                or any(hit(n) or hit(v) for n, v in dimensions))
    if t.prop == METRIC_NAME:
        return hit(metric_name)
    if t.prop == NAMESPACE:
        return hit(namespace)
    return any(n == t.prop and hit(v) for n, v in dimensions)


def _node_matches(node: Node, namespace: str, metric_name: str, dimensions: Sequence[tuple[str, str]]) -> bool:
    if isinstance(node, Term):
        return _term_matches(node, namespace, metric_name, dimensions)
    if isinstance(node, And):
        return all(_node_matches(i, namespace, metric_name, dimensions) for i in node.items)
    if isinstance(node, Or):
        return any(_node_matches(i, namespace, metric_name, dimensions) for i in node.items)
    return not _node_matches(node.item, namespace, metric_name, dimensions)


def matches(f: SearchFilter, namespace: str, metric_name: str, dimensions: Sequence[tuple[str, str]]) -> bool:
    """Whether the metric (namespace, name, (dimension name, value) pairs) is selected by ``f``."""
    if f.namespace is not None:
        if namespace != f.namespace or tuple(sorted({n for n, _ in dimensions})) != f.dimension_names:
            return False
    return f.expr is None or _node_matches(f.expr, namespace, metric_name, dimensions)


# --- parsing -------------------------------------------------------------------------------------

def _invalid(message: str) -> errors.ServiceError:
    return errors.InvalidParameterValue(f"Invalid SEARCH expression: {message}")


class _Parser:
    """Recursive descent over the query text (grammar in the module docstring)."""

    def __init__(self, text: str) -> None:
        self.s = text
        self.i = 0

    def skip(self) -> None:
        while self.i < len(self.s) and self.s[self.i].isspace():
            self.i += 1

    def peek(self) -> str:
        self.skip()
        return self.s[self.i] if self.i < len(self.s) else ""

    def at_operator(self, op: str) -> bool:
        self.skip()
        j = self.i + len(op)
        return self.s.startswith(op, self.i) and (j == len(self.s) or self.s[j] in _WORD_END or self.s[j].isspace())

    def quoted(self) -> str:
        start = self.i
        self.i += 1  # the opening quote
        out: list[str] = []
        while self.i < len(self.s):
            ch = self.s[self.i]
            if ch == "\\" and self.i + 1 < len(self.s):
                out.append(self.s[self.i + 1])
                self.i += 2
                continue
            if ch == '"':
                self.i += 1
                return "".join(out)
            out.append(ch)
            self.i += 1
        raise _invalid(f"unterminated quoted string at position {start + 1}")

    def word(self, end: frozenset[str] = _WORD_END) -> str:
        start = self.i
        while self.i < len(self.s) and self.s[self.i] not in end and not self.s[self.i].isspace():
            self.i += 1
        return self.s[start:self.i]

    def schema(self) -> tuple[str, tuple[str, ...]]:
        start = self.i
        self.i += 1  # "{"
        names: list[str] = []
        while True:
            ch = self.peek()
            if ch == '"':
                names.append(self.quoted())
            else:
                name = self.word(_NAME_END)
                if not name:
                    raise _invalid(f"empty name in the metric schema at position {self.i + 1}")
                names.append(name)
            ch = self.peek()
            self.i += 1
            if ch == "}":
                break
            if ch != ",":
                raise _invalid(f"unterminated metric schema at position {start + 1}")
        if len(set(names[1:])) != len(names) - 1:
            raise _invalid("a dimension name appears twice in the metric schema")
        return names[0], tuple(sorted(names[1:]))

    def or_expr(self) -> Node:
        items = [self.and_expr()]
        while self.at_operator("OR"):
            self.i += 2
            items.append(self.and_expr())
        return items[0] if len(items) == 1 else Or(tuple(items))

    def and_expr(self) -> Node:
        items = [self.not_expr()]
        while True:
            if self.at_operator("AND"):
                self.i += 3
            elif self.peek() in ("", ")") or self.at_operator("OR"):
                break
            items.append(self.not_expr())
        return items[0] if len(items) == 1 else And(tuple(items))

    def not_expr(self) -> Node:
        if self.at_operator("NOT"):
            self.i += 3
            return Not(self.not_expr())
        ch = self.peek()
        if ch == "(":
            start = self.i
            self.i += 1
            node = self.or_expr()
            if self.peek() != ")":
                raise _invalid(f"unbalanced parentheses: '(' at position {start + 1} is not closed")
            self.i += 1
            return node
        if ch == "" or (self.at_operator("AND") or self.at_operator("OR")):
            raise _invalid(f"a search term is missing at position {self.i + 1}")
        return self.term()

    def term(self) -> Term:
        ch = self.peek()
        pos = self.i + 1
        if ch == '"':
            text, exact = self.quoted(), True
        else:
            text, exact = self.word(), False
            if not text:
                raise _invalid(f"unexpected {ch!r} at position {pos}")
        if self.peek() != "=":
            return Term(text, exact)
        self.i += 1
        ch = self.peek()
        if ch == '"':
            return Term(self.quoted(), True, text)
        value = self.word()
        if not value:
            raise _invalid(f"a value is missing after {text}= at position {self.i + 1}")
        return Term(value, False, text)


def parse_search(text: str) -> SearchFilter:
    """Parse the query of a SEARCH expression (the text between its first pair of single quotes).

    Raises:
        InvalidParameterValue: the query is empty, longer than 1,024 characters, or not of the
            grammar (unbalanced quotes, braces or parentheses, a dangling operator, a
            cross-account ``:aws.AccountId`` designator).
    """
    if len(text) > MAX_QUERY:
        raise _invalid(f"the query must be at most {MAX_QUERY} characters")
    p = _Parser(text)
    namespace: str | None = None
    names: tuple[str, ...] | None = None
    if p.peek() == "{":
        namespace, names = p.schema()
        if p.peek() == ",":
            p.i += 1
    expr: Node | None = None
    if p.peek():
        expr = p.or_expr()
        if p.peek():
            raise _invalid(f"unexpected {p.peek()!r} at position {p.i + 1}")
    if namespace is None and expr is None:
        raise _invalid("it must contain a metric schema, a search term, or both")
    _check_terms(expr)
    return SearchFilter(namespace, names, expr)


def _check_terms(node: Node | None) -> None:
    if node is None:
        return
    if isinstance(node, Term):
        if (node.prop or "").startswith(":") or node.text.startswith(":aws."):
            raise _invalid("cross-account search (:aws.AccountId) is not supported")
        return
    for item in (node.items if isinstance(node, And | Or) else (node.item,)):
        _check_terms(item)
