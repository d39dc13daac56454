"""evaluate(): run a :class:`Plan` over the series the shell fetched, and label the results.

Each query is evaluated once, in ``plan.order``, into an environment Id → value; a query reads
the *labelled* values of the queries it names, so a label set on ``m1`` shows through
``METRICS()`` and ``FILL(m1, 0)``.

Operators (``+ - * / ^``, comparisons, ``AND``/``OR``) follow the documented rules:

- two series combine on the union of their timestamps, a missing point counting as 0;
- a series and a scalar combine on the series' own timestamps;
- an array combines element by element with a scalar or a series;
- a non-finite result (``x / 0``, ``0 ^ -1``, ``(-8) ^ 0.5``) drops the point;
- comparisons and logical operators give 1 or 0; ``AND``/``OR`` treat non-zero as true.

Labels: a MetricStat series gets its query's Label expanded (``${LABEL}`` being the default
label), or the default label. A single-series expression without Label is labelled with the label
its series carries (functions that map one series to one keep it), else with its Id. In an array
result each series keeps its own label; a static Label is prefixed to it ("Label MetricLabel",
as the CloudWatch console's legend shows it), a Label with ``${...}`` is expanded per series.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Mapping, Sequence

from stackwatch import errors
from stackwatch.domain.metricmath._context import Arg, Context
from stackwatch.domain.metricmath._functions import FUNCTIONS
from stackwatch.domain.metricmath._labels import (
    default_label,
    default_labels,
    has_dynamic_part,
    parse_timezone,
    render_label,
)
from stackwatch.domain.metricmath._model import Query, Result, SearchCall, Series
from stackwatch.domain.metricmath._plan import Plan
from stackwatch.domain.metricmath._series import Value, constant, grid, make, normalize, points, safe, union
from stackwatch.domain.metricmath._syntax import Array, Binary, Call, Name, Node, Number, String, Unary


def _truth(a: float, b: float, both: bool) -> float:
    return float((a != 0 and b != 0) if both else (a != 0 or b != 0))


_OPERATORS: dict[str, Callable[[float, float], float]] = {
    "+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv,
    "^": lambda a, b: math.pow(a, b),
    "==": lambda a, b: float(a == b), "!=": lambda a, b: float(a != b),
    "<": lambda a, b: float(a < b), "<=": lambda a, b: float(a <= b),
    ">": lambda a, b: float(a > b), ">=": lambda a, b: float(a >= b),
    "AND": lambda a, b: _truth(a, b, True), "OR": lambda a, b: _truth(a, b, False),
}


def evaluate(plan: Plan, fetched: Mapping[str, Series], searched: Mapping[SearchCall, Sequence[Series]],
             *, start: float, end: float, period: int, timezone: str | None = None,
             now: float | None = None) -> list[Result]:
    """Evaluate every query of ``plan`` and return the Results of the ReturnData ones, in request order.

    Args:
        plan: from :func:`plan`.
        fetched: the series of each MetricStat Id in ``plan.metric_ids``; an Id without an entry
            had no data. Their labels are ignored: the engine applies the default-label rule.
        searched: the matching series of each ``plan.searches`` call (each with its ``ref``; an
            empty label gets the default label among that call's hits). Any order.
        start: the first period boundary of the range (as the shell aligned it).
        end: the end of the range, exclusive.
        period: the default period: the grid of TIME_SERIES and of FILL on computed series.
        timezone: ``LabelOptions.Timezone`` for times in dynamic labels.
        now: the reference of ``${..._TIME_RELATIVE}``; defaults to ``end``.

    Returns:
        One Result per ReturnData query, several (same Id) for an array of time series.

    Raises:
        InvalidParameterValue: a malformed ``timezone``, or a grid longer than 100,800 points.
        InternalFailure: a fetched series breaks the Series contract (duplicate timestamps).
    """
    parse_timezone(timezone)
    when = end if now is None else now
    by_id = {q.id: q for q in plan.queries}
    defaults = default_labels(plan.queries)
    env: dict[str, Value] = {}
    metric_ids = tuple(q.id for q in plan.queries if q.metric is not None)
    for qid in plan.order:
        q = by_id[qid]
        if q.metric is not None:
            raw = normalize(fetched[qid]) if qid in fetched else make(())
            base = Series(raw.timestamps, raw.values, defaults[qid], q.metric)
            env[qid] = _relabel(base, q.label, timezone, when) if q.label else base
            continue
        ctx = Context(start, end, q.period or period, tuple(_as_series(env.get(m)) for m in metric_ids),
                      metric_ids, searched, default_label)
        value = _Evaluator(env, ctx).eval(plan.trees[qid])
        env[qid] = _label(value, q, timezone, when)
    return [Result(q.id, s.label, s.timestamps, s.values)
            for q in plan.queries if q.return_data
            for s in _as_list(env[q.id])]


def _as_series(value: Value | None) -> Series:
    return value if isinstance(value, Series) else make(())


def _as_list(value: Value) -> list[Series]:
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, Series):
        return [value]
    raise errors.InternalFailure("metric math: a scalar reached the results")  # plan() refuses this


def _relabel(series: Series, template: str, timezone: str | None, now: float) -> Series:
    label = render_label(template, series, timezone=timezone, now=now)
    return Series(series.timestamps, series.values, label, series.ref)


def _label(value: Value, q: Query, timezone: str | None, now: float) -> Value:
    if isinstance(value, Series):
        base = Series(value.timestamps, value.values, value.label or q.id, value.ref)
        return _relabel(base, q.label, timezone, now) if q.label else base
    if isinstance(value, tuple):
        out = []
        for s in value:
            base = Series(s.timestamps, s.values, s.label or q.id, s.ref)
            if not q.label:
                out.append(base)
            elif has_dynamic_part(q.label):
                out.append(_relabel(base, q.label, timezone, now))
            else:
                out.append(Series(s.timestamps, s.values, f"{q.label} {base.label}", s.ref))
        return tuple(out)
    return value


def _like(value: Value, source: Series) -> Series:
    assert isinstance(value, Series)
    return Series(value.timestamps, value.values, source.label, source.ref)


class _Evaluator:
    """One expression's tree, evaluated against the environment of earlier queries."""

    def __init__(self, env: Mapping[str, Value], ctx: Context) -> None:
        self.env, self.ctx = env, ctx

    def eval(self, node: Node) -> Value:
        if isinstance(node, Number):
            return node.value
        if isinstance(node, Name):
            return self.env[node.name]
        if isinstance(node, Array):
            return self.array(node)
        if isinstance(node, Unary):
            return self.combine("-", 0.0, self.eval(node.operand))
        if isinstance(node, Binary):
            return self.combine(node.op, self.eval(node.left), self.eval(node.right))
        assert isinstance(node, Call)
        args = [self.argument(arg) for arg in node.args]
        return FUNCTIONS[node.name].impl(args, self.ctx)

    def argument(self, node: Node) -> Arg:
        if isinstance(node, String):
            return node.value
        if isinstance(node, Name) and not node.is_id:
            return node.name
        return self.eval(node)

    def array(self, node: Array) -> Value:
        """``[a, b]``: arrays flatten in; a scalar becomes a series on the period grid."""
        out: list[Series] = []
        for item in node.items:
            value = self.eval(item)
            if isinstance(value, tuple):
                out.extend(value)
            elif isinstance(value, Series):
                out.append(value)
            else:
                out.append(constant(value, grid(self.ctx.start, self.ctx.end, self.ctx.period)))
        return tuple(out)

    def combine(self, op: str, left: Value, right: Value) -> Value:
        fn = _OPERATORS[op]
        # An array combines element by element; each result keeps its element's label and metric.
        if isinstance(left, tuple):
            return tuple(_like(self.combine(op, s, right), s) for s in left)
        if isinstance(right, tuple):
            return tuple(_like(self.combine(op, left, s), s) for s in right)
        if isinstance(left, float) and isinstance(right, float):
            return safe(fn, left, right)
        if isinstance(left, Series) and isinstance(right, Series):
            a, b = points(left), points(right)
            return make((t, safe(fn, a.get(t, 0.0), b.get(t, 0.0))) for t in union([left, right]))
        if isinstance(left, Series):
            assert isinstance(right, float)
            return make(((t, safe(fn, v, right)) for t, v in zip(left.timestamps, left.values, strict=True)),
                        left.label, left.ref)
        assert isinstance(left, float) and isinstance(right, Series)
        return make(((t, safe(fn, left, v)) for t, v in zip(right.timestamps, right.values, strict=True)),
                    right.label, right.ref)
