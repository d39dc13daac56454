"""Every supported metric math function: its signatures (for the planner) and its body.

One table, :data:`FUNCTIONS`, maps a name to a :class:`Function`: the argument kinds it accepts
and the kind it returns (``S`` scalar, ``TS`` time series, ``TS[]`` array, ``STR`` a string
literal, ``KW`` a bare keyword such as ``REPEAT``), the keywords allowed at each position, and
the implementation. The planner types an expression from the signatures alone, so a bad call is
refused before anything is fetched; the evaluator calls ``impl`` with evaluated arguments.

Semantics follow the "Metric math syntax and functions" page of the CloudWatch User Guide.
Where that page is silent, the choice is stated in the function's comment and in
``__init__``'s list of unverified behaviour.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from stackwatch.domain.metricmath._model import MetricRef, SearchCall, Series
from stackwatch.domain.metricmath._series import (
    Value,
    constant,
    grid,
    make,
    map_values,
    normalize,
    points,
    safe,
    union,
)

S, TS, TSA, STR, KW = "S", "TS", "TS[]", "STR", "KW"
Arg = Value | str


@dataclass(frozen=True, slots=True)
class Context:
    """What a function may read besides its arguments (all of it given to ``evaluate``)."""

    start: float
    end: float
    period: int
    """The evaluating query's period (its Period, else the request's default)."""
    metrics: tuple[Series, ...]
    """Every MetricStat query's series, in request order, labelled (what METRICS() returns)."""
    metric_ids: tuple[str, ...]
    searched: Mapping[SearchCall, Sequence[Series]]
    default_label: Callable[[MetricRef, Sequence[MetricRef]], str]


Impl = Callable[[list[Arg], Context], Value]


@dataclass(frozen=True, slots=True)
class Function:
    """One metric math function."""

    signatures: Mapping[tuple[str, ...], str]
    impl: Impl
    keywords: Mapping[int, frozenset[str]] = field(default_factory=dict)
    variadic: bool = False
    """CONCAT: any number (at least one) of TS / TS[] arguments, returning TS[]."""


def _sig(*pairs: tuple[tuple[str, ...], str]) -> dict[tuple[str, ...], str]:
    return dict(pairs)


# ---- shapes of functions -------------------------------------------------------------------

def _elementwise(fn: Callable[[float], float]) -> Impl:
    def impl(args: list[Arg], ctx: Context) -> Value:
        x = args[0]
        if isinstance(x, Series):
            return map_values(x, fn)
        if isinstance(x, tuple):
            return tuple(map_values(s, fn) for s in x)
        assert isinstance(x, float)
        return safe(fn, x)
    return impl


def _per_series(fn: Callable[[Series, Context], Series]) -> Impl:
    def impl(args: list[Arg], ctx: Context) -> Value:
        x = args[0]
        if isinstance(x, tuple):
            return tuple(fn(s, ctx) for s in x)
        assert isinstance(x, Series)
        return fn(x, ctx)
    return impl


def _pstdev(values: Sequence[float]) -> float:
    return statistics.pstdev(values) if values else math.nan


#: Reductions of a list of values; an empty list gives NaN (no value), except the count.
REDUCERS: dict[str, Callable[[Sequence[float]], float]] = {
    "AVG": lambda v: math.fsum(v) / len(v) if v else math.nan,
    "SUM": lambda v: math.fsum(v) if v else math.nan,
    "MIN": lambda v: min(v) if v else math.nan,
    "MAX": lambda v: max(v) if v else math.nan,
    "STDDEV": _pstdev,
    "DATAPOINT_COUNT": lambda v: float(len(v)),
}


def _aggregate(name: str) -> Impl:
    """Of one TS: a scalar over its points. Of TS[]: a TS, point by point across the series.

    Across an array, AVG counts a series without a point at that time as 0 (documented: "Missing
    values are treated as 0"), SUM is the same either way; MIN, MAX, STDDEV and DATAPOINT_COUNT
    use only the points present (unverified).
    """
    reduce = REDUCERS[name]

    def impl(args: list[Arg], ctx: Context) -> Value:
        x = args[0]
        if isinstance(x, Series):
            return reduce(x.values)
        assert isinstance(x, tuple)
        maps = [points(s) for s in x]
        out = []
        for t in union(x):
            present = [m[t] for m in maps if t in m]
            value = math.fsum(present) / len(maps) if name == "AVG" else reduce(present)
            out.append((t, value))
        return make(out)
    return impl


# ---- one series to one series ----------------------------------------------------------------

def _consecutive(series: Series, fn: Callable[[float, float, float, float], float]) -> Series:
    ts, vs = series.timestamps, series.values
    return make(((ts[i], safe(fn, ts[i - 1], vs[i - 1], ts[i], vs[i])) for i in range(1, len(ts))),
                series.label, series.ref)


def _diff(s: Series, ctx: Context) -> Series:
    return _consecutive(s, lambda t0, v0, t1, v1: v1 - v0)


def _diff_time(s: Series, ctx: Context) -> Series:
    return _consecutive(s, lambda t0, v0, t1, v1: t1 - t0)


def _rate(s: Series, ctx: Context) -> Series:
    return _consecutive(s, lambda t0, v0, t1, v1: (v1 - v0) / (t1 - t0))


def _running_sum(s: Series, ctx: Context) -> Series:
    total, out = 0.0, []
    for t, v in zip(s.timestamps, s.values, strict=True):
        total += v
        out.append((t, total))
    return make(out, s.label, s.ref)


def _series_grid(s: Series, ctx: Context) -> tuple[float, ...]:
    """The grid a series lives on: its metric's period if it has one, else the query's."""
    return grid(ctx.start, ctx.end, s.ref.period if s.ref else ctx.period)


def _fill_one(s: Series, filler: Arg, ctx: Context) -> Series:
    """FILL: give every grid timestamp the series lacks a value.

    A scalar fills with itself, a series with its value at that time (if it has one), REPEAT with
    the latest real value before the gap, LINEAR by interpolating in time between the real values
    on both sides. REPEAT leaves a gap at the very start, LINEAR gaps at either end (unverified).
    """
    have = points(s)
    stamps = sorted(set(_series_grid(s, ctx)) | set(have))
    out: list[tuple[float, float]] = []
    if isinstance(filler, float):
        out = [(t, have.get(t, filler)) for t in stamps]
    elif isinstance(filler, Series):
        other = points(filler)
        out = [(t, have[t] if t in have else other[t]) for t in stamps if t in have or t in other]
    elif filler == "REPEAT":
        last: float | None = None
        for t in stamps:
            last = have.get(t, last)
            if last is not None:
                out.append((t, last))
    else:  # LINEAR
        real = list(zip(s.timestamps, s.values, strict=True))
        j = 0
        for t in stamps:
            if t in have:
                out.append((t, have[t]))
                continue
            while j < len(real) and real[j][0] < t:
                j += 1
            if 0 < j < len(real):
                (t0, v0), (t1, v1) = real[j - 1], real[j]
                out.append((t, v0 + (v1 - v0) * (t - t0) / (t1 - t0)))
    return make(out, s.label, s.ref)


def _fill(args: list[Arg], ctx: Context) -> Value:
    x, filler = args
    if isinstance(x, tuple):
        return tuple(_fill_one(s, filler, ctx) for s in x)
    assert isinstance(x, Series)
    return _fill_one(x, filler, ctx)


def _date_part(fn: Callable[[datetime], float]) -> Impl:
    """MINUTE, HOUR, ...: a non-sparse series over the argument's period grid, from each UTC time."""
    def impl(args: list[Arg], ctx: Context) -> Value:
        x = args[0]
        assert isinstance(x, Series)
        return make((t, fn(datetime.fromtimestamp(t, UTC))) for t in _series_grid(x, ctx))
    return impl


# ---- arrays ------------------------------------------------------------------------------------

def _array(x: Arg) -> tuple[Series, ...]:
    assert isinstance(x, tuple)
    return x


def _first(args: list[Arg], ctx: Context) -> Value:
    arr = _array(args[0])
    return arr[0] if arr else make(())


def _last(args: list[Arg], ctx: Context) -> Value:
    arr = _array(args[0])
    return arr[-1] if arr else make(())


def _slice(args: list[Arg], ctx: Context) -> Value:
    """SLICE(array, start[, end]): zero-based, start included, end excluded (Python slicing)."""
    arr = _array(args[0])
    start = int(_scalar(args[1]))
    end = int(_scalar(args[2])) if len(args) > 2 else None
    return arr[start:end]


def _sort(args: list[Arg], ctx: Context) -> Value:
    """SORT(array, FUNC, ASC|DESC[, limit]); stable; a series with no value for FUNC goes last."""
    arr = _array(args[0])
    reduce, descending = REDUCERS[str(args[1])], args[2] == "DESC"
    keyed = [(reduce(s.values), i, s) for i, s in enumerate(arr)]
    valued = [k for k in keyed if not math.isnan(k[0])]
    valued.sort(key=lambda k: -k[0] if descending else k[0])
    ordered = tuple(s for _, _, s in valued + [k for k in keyed if math.isnan(k[0])])
    return ordered[: int(_scalar(args[3]))] if len(args) > 3 else ordered


def _concat(args: list[Arg], ctx: Context) -> Value:
    out: list[Series] = []
    for x in args:
        out.extend(x if isinstance(x, tuple) else [x] if isinstance(x, Series) else [])
    return tuple(out)


def _metrics(args: list[Arg], ctx: Context) -> Value:
    """METRICS(): every MetricStat query of the request; METRICS('x'): those whose Id contains x."""
    needle = str(args[0]) if args else ""
    return tuple(s for qid, s in zip(ctx.metric_ids, ctx.metrics, strict=True) if needle in qid)


def _search(args: list[Arg], ctx: Context) -> Value:
    """SEARCH: the series the shell found for this call, in a canonical order (by metric identity)."""
    call = SearchCall(str(args[0]), str(args[1]), int(_scalar(args[2])))
    hits = [normalize(s) for s in ctx.searched.get(call, ())]
    hits.sort(key=lambda s: (_ref_key(s.ref), s.label, s.timestamps, s.values))
    refs = [s.ref for s in hits if s.ref is not None]
    return tuple(s if s.label or s.ref is None
                 else Series(s.timestamps, s.values, ctx.default_label(s.ref, refs), s.ref) for s in hits)


def _ref_key(ref: MetricRef | None) -> tuple[str, str, tuple[tuple[str, str], ...], str, int]:
    if ref is None:
        return ("", "", (), "", 0)
    return (ref.namespace, ref.metric_name, ref.dimensions, ref.stat, ref.period)


def _scalar(x: Arg) -> float:
    assert isinstance(x, float)
    return x


def _period(args: list[Arg], ctx: Context) -> Value:
    x = args[0]
    assert isinstance(x, Series)
    return float(x.ref.period if x.ref else ctx.period)


def _time_series(args: list[Arg], ctx: Context) -> Value:
    return constant(_scalar(args[0]), grid(ctx.start, ctx.end, ctx.period))


def _if(args: list[Arg], ctx: Context) -> Value:
    """IF(condition, true[, false]), with the documented missing-point rules.

    A TS condition decides point by point on its own timestamps (no condition point, no output).
    When true: the true side's value, or 0 if it is a series without that point. When false: the
    false side's value; dropped if it is a series without that point or is omitted. A scalar
    condition picks a whole side (an omitted false side gives an empty series; a scalar side of a
    time series result becomes a series on the period grid).
    """
    cond, yes = args[0], args[1]
    no: Arg | None = args[2] if len(args) > 2 else None
    if isinstance(cond, float):
        picked = yes if cond != 0 else no
        if picked is None:
            return make(())
        if isinstance(picked, float) and any(isinstance(a, Series) for a in args):
            # IF(S, TS, S) is a time series: a scalar branch covers the query's period grid.
            return constant(picked, grid(ctx.start, ctx.end, ctx.period))
        assert not isinstance(picked, str)
        return picked
    assert isinstance(cond, Series)
    yes_map = points(yes) if isinstance(yes, Series) else None
    no_map = points(no) if isinstance(no, Series) else None
    out: list[tuple[float, float]] = []
    for t, c in zip(cond.timestamps, cond.values, strict=True):
        if c != 0:
            out.append((t, yes_map.get(t, 0.0) if yes_map is not None else _scalar(yes)))
        elif no_map is not None:
            if t in no_map:
                out.append((t, no_map[t]))
        elif no is not None:
            out.append((t, _scalar(no)))
    return make(out)


def _if_signatures() -> dict[tuple[str, ...], str]:
    sigs: dict[tuple[str, ...], str] = {}
    for c in (S, TS):
        for a in (S, TS):
            sigs[(c, a)] = S if (c, a) == (S, S) else TS
            for b in (S, TS):
                sigs[(c, a, b)] = S if (c, a, b) == (S, S, S) else TS
    return sigs


_MAP = _sig(((S,), S), ((TS,), TS), ((TSA,), TSA))
_SERIES = _sig(((TS,), TS), ((TSA,), TSA))
_AGG = _sig(((TS,), S), ((TSA,), TS))
_SORT_BY = frozenset(REDUCERS)

FUNCTIONS: dict[str, Function] = {
    "ABS": Function(_MAP, _elementwise(abs)),
    "CEIL": Function(_MAP, _elementwise(lambda v: float(math.ceil(v)))),
    "FLOOR": Function(_MAP, _elementwise(lambda v: float(math.floor(v)))),
    "LOG": Function(_MAP, _elementwise(math.log)),
    "LOG10": Function(_MAP, _elementwise(math.log10)),
    **{name: Function(_AGG, _aggregate(name)) for name in REDUCERS},
    "DIFF": Function(_SERIES, _per_series(_diff)),
    "DIFF_TIME": Function(_SERIES, _per_series(_diff_time)),
    "RATE": Function(_SERIES, _per_series(_rate)),
    "RUNNING_SUM": Function(_SERIES, _per_series(_running_sum)),
    "FILL": Function(_sig(*(((x, f), x) for x in (TS, TSA) for f in (S, TS, KW))), _fill,
                     {1: frozenset({"REPEAT", "LINEAR"})}),
    "FIRST": Function(_sig(((TSA,), TS)), _first),
    "LAST": Function(_sig(((TSA,), TS)), _last),
    "IF": Function(_if_signatures(), _if),
    "METRIC_COUNT": Function(_sig(((TSA,), S)), lambda a, c: float(len(_array(a[0])))),
    "METRICS": Function(_sig(((), TSA), ((STR,), TSA)), _metrics),
    "MINUTE": Function(_sig(((TS,), TS)), _date_part(lambda d: float(d.minute))),
    "HOUR": Function(_sig(((TS,), TS)), _date_part(lambda d: float(d.hour))),
    "DAY": Function(_sig(((TS,), TS)), _date_part(lambda d: float(d.isoweekday()))),
    "DATE": Function(_sig(((TS,), TS)), _date_part(lambda d: float(d.day))),
    "MONTH": Function(_sig(((TS,), TS)), _date_part(lambda d: float(d.month))),
    "YEAR": Function(_sig(((TS,), TS)), _date_part(lambda d: float(d.year))),
    "EPOCH": Function(_sig(((TS,), TS)), _date_part(lambda d: float(int(d.timestamp())))),
    "PERIOD": Function(_sig(((TS,), S)), _period),
    "REMOVE_EMPTY": Function(_sig(((TSA,), TSA)), lambda a, c: tuple(s for s in _array(a[0]) if s.timestamps)),
    "SEARCH": Function(_sig(((STR, STR, S), TSA)), _search),
    "SLICE": Function(_sig(((TSA, S), TSA), ((TSA, S, S), TSA)), _slice),
    "SORT": Function(_sig(((TSA, KW, KW), TSA), ((TSA, KW, KW, S), TSA)), _sort,
                     {1: _SORT_BY, 2: frozenset({"ASC", "DESC"})}),
    "TIME_SERIES": Function(_sig(((S,), TS)), _time_series),
    "CONCAT": Function({}, _concat, variadic=True),
}

#: Documented functions StackWatch does not offer, with the reason given to the caller.
UNSUPPORTED: dict[str, str] = {
    "ANOMALY_DETECTION_BAND": "anomaly detection is not supported by StackWatch",
    "INSIGHT_RULE_METRIC": "Contributor Insights is not supported by StackWatch",
    "SERVICE_QUOTA": "service quotas are not supported by StackWatch",
    "DB_PERF_INSIGHTS": "Performance Insights is not supported by StackWatch",
    "LAMBDA": "Lambda-backed metric math is not supported by StackWatch",
}
