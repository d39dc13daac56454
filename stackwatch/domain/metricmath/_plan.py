"""plan(): check a GetMetricData request's queries and decide what to fetch and in which order.

Checks, in order; the first failure raises (``N`` is the 1-based query position, as the query
protocol names members):

1. Each ``MetricDataQueries.member.N.Id`` matches ``[a-z][A-Za-z0-9_]*`` (at most 255 characters)
   and is unique; each query has exactly one of MetricStat and Expression.
2. Each expression parses (syntax errors name the 1-based character position).
3. Each Id an expression names exists; the references have no cycle.
4. Each expression types: operators and functions get argument kinds they accept, keywords sit
   where a function expects one, SEARCH has literal arguments, PERIOD is given a metric, and the
   whole expression is a time series or an array of them. Unsupported functions
   (:data:`._functions.UNSUPPORTED`) are refused here, with the reason.

The plan lists the MetricStat queries someone needs (returned, or named by an expression, or
matched by ``METRICS()``), the distinct SEARCH calls, and an evaluation order with every query
after the ones it reads.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

from stackwatch import errors
from stackwatch.domain.metricmath._functions import FUNCTIONS, KW, STR, TS, TSA, UNSUPPORTED, S
from stackwatch.domain.metricmath._model import Query, SearchCall
from stackwatch.domain.metricmath._syntax import (
    Array,
    Binary,
    Call,
    Name,
    Node,
    Number,
    String,
    SyntaxProblem,
    Unary,
    parse,
)

_ID = re.compile(r"[a-z][A-Za-z0-9_]*")
MAX_ID_LENGTH = 255
_VALUE_KINDS = (S, TS, TSA)


@dataclass(frozen=True, slots=True)
class Plan:
    """What :func:`evaluate` needs, and what the shell must fetch before calling it."""

    queries: tuple[Query, ...]
    order: tuple[str, ...]
    """Ids in evaluation order (dependencies first)."""
    metric_ids: tuple[str, ...]
    """MetricStat query ids the shell must fetch, in request order."""
    searches: tuple[SearchCall, ...]
    """SEARCH calls the shell must resolve and fetch, in order of first appearance."""
    trees: Mapping[str, Node] = field(default_factory=dict, compare=False, repr=False)
    """Parsed expression of each expression query."""
    kinds: Mapping[str, str] = field(default_factory=dict, compare=False, repr=False)
    """Result kind of each query: ``TS`` or ``TS[]``."""


def plan(queries: Sequence[Query]) -> Plan:
    """Validate the queries of one request and plan their evaluation (see the module docstring).

    Raises:
        ValidationError: a bad Id, a syntax error, an unknown Id, a cycle, a type error, an
            unsupported function.
        InvalidParameterCombination: a query with both MetricStat and Expression.
        MissingParameter: a query with neither.
    """
    _check_ids(queries)
    trees: dict[str, Node] = {}
    for q in queries:
        if q.expression is not None:
            try:
                trees[q.id] = parse(q.expression)
            except SyntaxProblem as problem:
                raise _bad(q.id, f"Syntax error: {problem}") from None
    metric_ids = tuple(q.id for q in queries if q.metric is not None)
    deps = {qid: _dependencies(qid, tree, metric_ids, {q.id for q in queries}) for qid, tree in trees.items()}
    order = _order([q.id for q in queries], deps)
    kinds: dict[str, str] = {qid: TS for qid in metric_ids}
    searches: list[SearchCall] = []
    for qid in order:
        if qid in trees:
            kind = _Typer(qid, kinds, set(metric_ids), searches).kind(trees[qid])
            if kind not in (TS, TSA):
                raise _bad(qid, "The expression must return a time series or an array of time series, "
                                f"but returns {_KIND_NAMES[kind]}")
            kinds[qid] = kind
    needed = {q.id for q in queries if q.return_data}.union(*deps.values())
    return Plan(tuple(queries), tuple(order), tuple(m for m in metric_ids if m in needed),
                tuple(searches), trees, kinds)


_KIND_NAMES = {S: "a scalar", TS: "a time series", TSA: "an array of time series", STR: "a string",
               KW: "a keyword"}


def _bad(qid: str, detail: str) -> errors.ServiceError:
    return errors.ValidationError(f"Error in expression {qid}: {detail}")


def _check_ids(queries: Sequence[Query]) -> None:
    seen: set[str] = set()
    for n, q in enumerate(queries, start=1):
        path = f"MetricDataQueries.member.{n}"
        if not _ID.fullmatch(q.id) or len(q.id) > MAX_ID_LENGTH:
            raise errors.ValidationError(
                f"The value {q.id} for parameter {path}.Id is invalid: an Id must start with a lowercase "
                "letter and contain only letters, numbers and underscores (at most 255 characters).")
        if q.id in seen:
            raise errors.ValidationError(f"The value {q.id} for parameter {path}.Id is a duplicate: "
                                         "each Id must be unique within the request.")
        seen.add(q.id)
        if q.expression is not None and q.metric is not None:
            raise errors.InvalidParameterCombination(
                f"The parameters {path}.Expression and {path}.MetricStat are mutually exclusive "
                "and you have specified both.")
        if q.expression is None and q.metric is None:
            raise errors.MissingParameter(
                f"The parameter {path}.Expression or {path}.MetricStat must be specified.")


def _walk(node: Node) -> Iterator[Node]:
    yield node
    children: tuple[Node, ...] = ()
    if isinstance(node, Call):
        children = node.args
    elif isinstance(node, Array):
        children = node.items
    elif isinstance(node, Unary):
        children = (node.operand,)
    elif isinstance(node, Binary):
        children = (node.left, node.right)
    for child in children:
        yield from _walk(child)


def _dependencies(qid: str, tree: Node, metric_ids: tuple[str, ...], ids: set[str]) -> set[str]:
    """Ids the expression reads; METRICS('x') reads the MetricStat Ids containing x."""
    found: set[str] = set()
    for node in _walk(tree):
        if isinstance(node, Name) and node.is_id:
            if node.name not in ids:
                raise _bad(qid, f"Unrecognized identifier {node.name} at position {node.pos + 1}")
            found.add(node.name)
        elif isinstance(node, Call) and node.name == "METRICS":
            needle = node.args[0].value if node.args and isinstance(node.args[0], String) else ""
            found.update(m for m in metric_ids if needle in m)
    return found


def _order(ids: list[str], deps: Mapping[str, set[str]]) -> list[str]:
    """Depth-first post-order in request order; a back edge is a cycle."""
    order: list[str] = []
    position = {qid: i for i, qid in enumerate(ids)}
    state: dict[str, int] = {}  # 1 visiting, 2 done
    path: list[str] = []

    def visit(qid: str) -> None:
        if state.get(qid) == 2:
            return
        if state.get(qid) == 1:
            cycle = path[path.index(qid):] + [qid]
            raise _bad(cycle[0], "Circular reference between expressions: " + " -> ".join(cycle))
        state[qid] = 1
        path.append(qid)
        for dep in sorted(deps.get(qid, ()), key=position.__getitem__):
            visit(dep)
        path.pop()
        state[qid] = 2
        order.append(qid)

    for qid in ids:
        visit(qid)
    return order


class _Typer:
    """Kinds of one expression's nodes, from the kinds of the queries it names."""

    def __init__(self, qid: str, kinds: Mapping[str, str], metric_ids: set[str], searches: list[SearchCall]):
        self.qid, self.kinds, self.metric_ids, self.searches = qid, kinds, metric_ids, searches

    def value(self, node: Node) -> str:
        kind = self.kind(node)
        if kind not in _VALUE_KINDS:
            what = f"keyword {node.name}" if isinstance(node, Name) else "string"
            raise _bad(self.qid, f"A {what} is not valid at position {node.pos + 1}")
        return kind

    def kind(self, node: Node) -> str:
        if isinstance(node, Number):
            return S
        if isinstance(node, String):
            return STR
        if isinstance(node, Name):
            return self.kinds[node.name] if node.is_id else KW
        if isinstance(node, Array):
            for item in node.items:
                self.value(item)
            return TSA
        if isinstance(node, Unary):
            return self.value(node.operand)
        if isinstance(node, Binary):
            return self.binary(node)
        return self.call(node)

    def binary(self, node: Binary) -> str:
        left, right = self.value(node.left), self.value(node.right)
        if left == TSA and right == TSA:
            raise _bad(self.qid, f"The operator {node.op} at position {node.pos + 1} cannot combine two "
                                 "arrays of time series")
        return max(left, right, key=_VALUE_KINDS.index)

    def call(self, node: Call) -> str:
        where = f"at position {node.pos + 1}"
        if node.name in UNSUPPORTED:
            raise _bad(self.qid, f"{node.name} {where}: {UNSUPPORTED[node.name]}")
        function = FUNCTIONS.get(node.name)
        if function is None:
            raise _bad(self.qid, f"Unknown function {node.name} {where}")
        got = tuple(self.kind(arg) for arg in node.args)
        for i, (arg, kind) in enumerate(zip(node.args, got, strict=True)):
            if kind == KW:
                assert isinstance(arg, Name)
                if arg.name not in function.keywords.get(i, ()):
                    raise _bad(self.qid, f"Invalid keyword {arg.name} for {node.name} at position {arg.pos + 1}")
        if function.variadic:
            if got and all(k in (TS, TSA) for k in got):
                return TSA
            raise _bad(self.qid, f"{node.name} {where} takes one or more time series or arrays of time series")
        if got not in function.signatures:
            expected = " or ".join("(" + ", ".join(sig) + ")" for sig in function.signatures)
            raise _bad(self.qid, f"Invalid arguments for {node.name} {where}: got ({', '.join(got)}), "
                                 f"expected {expected}")
        if node.name == "PERIOD" and not (isinstance(node.args[0], Name) and node.args[0].name in self.metric_ids):
            raise _bad(self.qid, f"PERIOD {where} accepts only the Id of a metric, not an expression")
        if node.name == "SEARCH":
            self.search(node)
        return function.signatures[got]

    def search(self, node: Call) -> None:
        query, stat, period = node.args
        if not (isinstance(query, String) and isinstance(stat, String) and isinstance(period, Number)):
            raise _bad(self.qid, f"SEARCH at position {node.pos + 1} needs literal arguments: "
                                 "SEARCH('search expression', 'Statistic', period)")
        if period.value <= 0 or period.value != int(period.value):
            raise _bad(self.qid, f"The period of SEARCH at position {node.pos + 1} must be a positive integer")
        call = SearchCall(query.value, stat.value, int(period.value))
        if call not in self.searches:
            self.searches.append(call)
