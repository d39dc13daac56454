r"""CloudWatch Metrics Insights: the SQL dialect of a GetMetricData ``Expression`` that starts with SELECT.

This module owns the query text and the reference meaning of each clause; ``store.py`` runs a
parsed :class:`InsightsQuery` as one ClickHouse query and is tested against the rules below. It
does not know periods, time ranges or MetricDataQuery ids (the servicer's), beyond the limits.

::

    query      := SELECT func "(" ident ")" FROM source [WHERE cond] [GROUP BY ident ("," ident)*]
                  [ORDER BY func "(" ")" [ASC | DESC]] [LIMIT number]
    source     := ident | SCHEMA "(" ident ("," ident)* ")"
    cond       := and_cond (OR and_cond)*
    and_cond   := not_cond (AND not_cond)*
    not_cond   := NOT not_cond | "(" cond ")" | ident compare
    compare    := ("=" | "!=") string | [NOT] LIKE string | [NOT] IN "(" string ("," string)* ")"
    func       := AVG | COUNT | MAX | MIN | SUM

Lexical rules (CloudWatch's user guide, "Metrics Insights query components and syntax"): keywords
are case-insensitive, identifiers case-sensitive. An identifier (namespace, metric name, label key)
is either bare (``[A-Za-z_][A-Za-z0-9_]*``, and not one of the keywords above) or double-quoted; a
value is single-quoted. Inside either quote a backslash escapes the next character
(``"Bytes\"Input\""``).

Meaning:

- ``FROM ns`` takes the namespace's metrics whatever their dimensions; ``SCHEMA(ns, k1, k2)`` only
  those whose dimension keys are exactly {k1, k2} (``SCHEMA(ns)``: no dimensions).
- WHERE tests dimension values. ``k = 'v'``, ``k LIKE 'p'`` and ``k IN (...)`` are false for a
  metric without the key ``k``; ``!=``, ``NOT LIKE`` and ``NOT IN`` are their negations, so they
  are true for it. In a LIKE pattern ``%`` stands for any run of characters; every other
  character (``_`` too) stands for itself.
- Per period, FUNC aggregates every datapoint of every selected metric (of the group): SUM the
  sum, COUNT the sample count, MIN/MAX the extremes, AVG their sum over their sample count
  (the average of all the observations, not an average of per-metric averages).
- GROUP BY makes one series per distinct combination of the keys' values; a metric without a
  key belongs to that key's null group, labelled ``Other``. Series come ordered by their values
  (``Other`` sorting as that word), unless ORDER BY FUNC() orders them by FUNC over the series'
  own datapoints in the range (MAX(): its highest datapoint), ascending by default.
- LIMIT keeps the first n series (1-500, default and cap 500). A query scans at most 10,000
  metrics (the first ones, by series id) and reads at most the last two weeks
  (:func:`insights_window`).

Extensions to AWS's documented grammar (which lists only ``=``, ``!=`` and ``AND``): OR, NOT,
parentheses, LIKE, IN and their negations, as our reference (cloudwatch-api.md §3.3.2) lists. Not supported:
``AWS.AccountId``/``CURRENT_ACCOUNT_ID()`` (no monitoring accounts) and ``tag.*`` keys.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import NoReturn

from stackwatch import errors

#: Most series a query returns, and the largest LIMIT.
MAX_SERIES = 500
#: Most metrics one query reads.
MAX_METRICS = 10_000
#: How far back (seconds from now) a query reads.
MAX_RANGE = 14 * 86400
#: The label of a metric's null group.
OTHER = "Other"

_KEYWORDS = frozenset({"SELECT", "FROM", "SCHEMA", "WHERE", "GROUP", "BY", "ORDER", "LIMIT", "AND", "OR", "NOT",
                       "IN", "LIKE", "ASC", "DESC"})


class Function(StrEnum):
    """An aggregate of SELECT and ORDER BY."""

    AVG = "AVG"
    COUNT = "COUNT"
    MAX = "MAX"
    MIN = "MIN"
    SUM = "SUM"


@dataclass(frozen=True, slots=True)
class Comparison:
    """``key op value(s)``: op is one of ``=``, ``!=``, ``LIKE``, ``NOT LIKE``, ``IN``, ``NOT IN``."""

    key: str
    op: str
    values: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Conjunction:
    """Every operand holds."""

    items: tuple[Condition, ...]


@dataclass(frozen=True, slots=True)
class Disjunction:
    """Some operand holds."""

    items: tuple[Condition, ...]


@dataclass(frozen=True, slots=True)
class Negation:
    """The operand does not hold."""

    item: Condition


Condition = Comparison | Conjunction | Disjunction | Negation


@dataclass(frozen=True, slots=True)
class InsightsQuery:
    """A parsed Metrics Insights query.

    Attributes:
        function: SELECT's aggregate.
        metric_name: the metric every selected series has.
        namespace: FROM's namespace.
        schema: the exact dimension keys, sorted (SCHEMA), or None (FROM a namespace).
        where: the WHERE condition, or None.
        group_by: GROUP BY's keys in their order (empty: one series).
        order_by: ORDER BY's aggregate, or None.
        descending: ORDER BY ... DESC.
        limit: most series returned.
    """

    function: Function
    metric_name: str
    namespace: str
    schema: tuple[str, ...] | None = None
    where: Condition | None = None
    group_by: tuple[str, ...] = ()
    order_by: Function | None = None
    descending: bool = False
    limit: int = MAX_SERIES


# --- the reference semantics ---------------------------------------------------------------------

def like_matches(pattern: str, s: str) -> bool:
    """SQL LIKE with ``%`` as the only wildcard, over whole strings."""
    parts = pattern.split("%")
    if len(parts) == 1:
        return s == pattern
    first, *middle, last = parts
    if len(s) < len(first) + len(last) or not s.startswith(first) or not s.endswith(last):
        return False
    i, stop = len(first), len(s) - len(last)
    for part in middle:
        j = s.find(part, i, stop)
        if j < 0:
            return False
        i = j + len(part)
    return True


def holds(c: Condition, dimensions: Mapping[str, str]) -> bool:
    """Whether a metric with ``dimensions`` (name -> value) satisfies the WHERE condition ``c``."""
    if isinstance(c, Conjunction):
        return all(holds(i, dimensions) for i in c.items)
    if isinstance(c, Disjunction):
        return any(holds(i, dimensions) for i in c.items)
    if isinstance(c, Negation):
        return not holds(c.item, dimensions)
    negated = c.op in ("!=", "NOT LIKE", "NOT IN")
    v = dimensions.get(c.key)
    if v is None:
        return negated
    if c.op in ("LIKE", "NOT LIKE"):
        hit = like_matches(c.values[0], v)
    else:
        hit = v in c.values
    return hit != negated


def selects(q: InsightsQuery, namespace: str, metric_name: str, dimensions: Sequence[tuple[str, str]]) -> bool:
    """Whether FROM/SCHEMA, the metric name and WHERE select this metric."""
    if namespace != q.namespace or metric_name != q.metric_name:
        return False
    if q.schema is not None and tuple(sorted(n for n, _ in dimensions)) != q.schema:
        return False
    return q.where is None or holds(q.where, dict(dimensions))


def group_of(q: InsightsQuery, dimensions: Mapping[str, str]) -> dict[str, str]:
    """The GROUP BY values of a metric: its values of the group keys it has (absent: ``Other``)."""
    return {k: dimensions[k] for k in q.group_by if k in dimensions}


def series_label(q: InsightsQuery, group: Mapping[str, str], label: str) -> str:
    """The label of one result series.

    With GROUP BY, the group's values in GROUP BY order joined by a space, ``Other`` for a key
    the group lacks; without, ``label`` (the MetricDataQuery's Label, or the caller's default).
    """
    if not q.group_by:
        return label
    return " ".join(group.get(k, OTHER) for k in q.group_by)


def insights_window(start: int, end: int, now: int) -> tuple[int, int]:
    """The part of [start, end) a query reads: nothing older than two weeks before ``now``."""
    return max(start, now - MAX_RANGE), end


# --- parsing -------------------------------------------------------------------------------------

def _invalid(message: str) -> errors.ServiceError:
    return errors.InvalidParameterValue(f"Invalid Metrics Insights query: {message}")


# A token: (kind, text, position); kinds: word, ident (quoted), string, number, punct, end.
_Token = tuple[str, str, int]


def _lex(text: str) -> list[_Token]:
    out: list[_Token] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
        elif ch in "\"'":
            start, i, chars = i, i + 1, []
            while i < n and text[i] != ch:
                if text[i] == "\\" and i + 1 < n:
                    i += 1
                chars.append(text[i])
                i += 1
            if i >= n:
                raise _invalid(f"unterminated quoted text at position {start + 1}")
            i += 1
            out.append(("ident" if ch == '"' else "string", "".join(chars), start))
        elif ch.isascii() and (ch.isalpha() or ch == "_"):
            start = i
            while i < n and text[i].isascii() and (text[i].isalnum() or text[i] == "_"):
                i += 1
            out.append(("word", text[start:i], start))
        elif ch.isascii() and ch.isdigit():
            start = i
            while i < n and text[i].isascii() and text[i].isdigit():
                i += 1
            out.append(("number", text[start:i], start))
        elif text.startswith("!=", i):
            out.append(("punct", "!=", i))
            i += 2
        elif ch in "(),=":
            out.append(("punct", ch, i))
            i += 1
        else:
            raise _invalid(f"unexpected character {ch!r} at position {i + 1}")
    out.append(("end", "", n))
    return out


class _Parser:
    """Recursive descent over the tokens (grammar in the module docstring)."""

    def __init__(self, text: str) -> None:
        self.tokens = _lex(text)
        self.k = 0

    @property
    def tok(self) -> _Token:
        return self.tokens[self.k]

    def is_keyword(self, word: str) -> bool:
        kind, text, _ = self.tok
        return kind == "word" and text.upper() == word

    def keyword(self, word: str) -> None:
        if not self.is_keyword(word):
            self.fail(f"expected {word}")
        self.k += 1

    def punct(self, p: str) -> None:
        if self.tok[:2] != ("punct", p):
            self.fail(f"expected '{p}'")
        self.k += 1

    def fail(self, message: str) -> NoReturn:
        kind, text, pos = self.tok
        found = "the end of the query" if kind == "end" else repr(text)
        raise _invalid(f"{message} at position {pos + 1}, found {found}")

    def ident(self, what: str) -> str:
        kind, text, _ = self.tok
        if kind == "ident" and text:
            self.k += 1
            return text
        if kind == "word" and text.upper() not in _KEYWORDS:
            self.k += 1
            return text
        self.fail(f"expected a {what} (a reserved word or special characters need double quotes)")

    def function(self) -> Function:
        kind, text, _ = self.tok
        if kind == "word" and text.upper() in Function.__members__:
            self.k += 1
            return Function(text.upper())
        self.fail("expected one of AVG, COUNT, MAX, MIN, SUM")

    def names(self, what: str) -> list[str]:
        out = [self.ident(what)]
        while self.tok[:2] == ("punct", ","):
            self.k += 1
            out.append(self.ident(what))
        return out

    def string(self) -> str:
        kind, text, _ = self.tok
        if kind != "string":
            self.fail("expected a single-quoted value")
        self.k += 1
        return text

    def cond(self) -> Condition:
        items = [self.and_cond()]
        while self.is_keyword("OR"):
            self.k += 1
            items.append(self.and_cond())
        return items[0] if len(items) == 1 else Disjunction(tuple(items))

    def and_cond(self) -> Condition:
        items = [self.not_cond()]
        while self.is_keyword("AND"):
            self.k += 1
            items.append(self.not_cond())
        return items[0] if len(items) == 1 else Conjunction(tuple(items))

    def not_cond(self) -> Condition:
        if self.is_keyword("NOT"):
            self.k += 1
            return Negation(self.not_cond())
        if self.tok[:2] == ("punct", "("):
            self.k += 1
            c = self.cond()
            self.punct(")")
            return c
        key = self.ident("label key")
        if self.tok[:2] in (("punct", "="), ("punct", "!=")):
            op = self.tok[1]
            self.k += 1
            return Comparison(key, op, (self.string(),))
        negated = self.is_keyword("NOT")
        if negated:
            self.k += 1
        if self.is_keyword("LIKE"):
            self.k += 1
            return Comparison(key, "NOT LIKE" if negated else "LIKE", (self.string(),))
        if self.is_keyword("IN"):
            self.k += 1
            self.punct("(")
            values = [self.string()]
            while self.tok[:2] == ("punct", ","):
                self.k += 1
                values.append(self.string())
            self.punct(")")
            return Comparison(key, "NOT IN" if negated else "IN", tuple(values))
        self.fail("expected =, !=, LIKE, IN, NOT LIKE or NOT IN")

    def query(self) -> InsightsQuery:
        self.keyword("SELECT")
        function = self.function()
        self.punct("(")
        metric = self.ident("metric name")
        self.punct(")")
        self.keyword("FROM")
        schema: tuple[str, ...] | None = None
        if self.is_keyword("SCHEMA") and self.tokens[self.k + 1][:2] == ("punct", "("):
            self.k += 2
            namespace, *keys = self.names("namespace or label key")
            if len(set(keys)) != len(keys):
                self.fail("a label key is listed twice in SCHEMA")
            self.punct(")")
            schema = tuple(sorted(keys))
        else:
            namespace = self.ident("namespace")
        where = None
        if self.is_keyword("WHERE"):
            self.k += 1
            where = self.cond()
        group_by: tuple[str, ...] = ()
        if self.is_keyword("GROUP"):
            self.k += 1
            self.keyword("BY")
            group_by = tuple(self.names("label key"))
            if len(set(group_by)) != len(group_by):
                self.fail("a label key is listed twice in GROUP BY")
        order_by, descending = None, False
        if self.is_keyword("ORDER"):
            self.k += 1
            self.keyword("BY")
            order_by = self.function()
            self.punct("(")
            self.punct(")")
            if self.is_keyword("ASC") or self.is_keyword("DESC"):
                descending = self.tok[1].upper() == "DESC"
                self.k += 1
        limit = MAX_SERIES
        if self.is_keyword("LIMIT"):
            self.k += 1
            kind, text, _ = self.tok
            if kind != "number" or not 1 <= int(text) <= MAX_SERIES:
                self.fail(f"LIMIT must be a number from 1 to {MAX_SERIES}")
            limit = int(text)
            self.k += 1
        if self.tok[0] != "end":
            self.fail("unexpected text after the query")
        return InsightsQuery(function, metric, namespace, schema, where, group_by, order_by, descending, limit)


def parse_insights(text: str) -> InsightsQuery:
    """Parse a Metrics Insights query (a MetricDataQuery ``Expression`` starting with SELECT).

    Raises:
        InvalidParameterValue: the text is not of the grammar; the message names the position.
    """
    return _Parser(text).query()
