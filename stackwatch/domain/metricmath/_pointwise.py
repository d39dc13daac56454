"""Functions over each point or each series: arithmetic maps, aggregates, DIFF/RATE, FILL, dates, IF.

The rules shared by every body (non-finite results drop the point, the period grid) live in
:mod:`._series`; the signatures live in :mod:`._functions`' table.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Sequence
from datetime import UTC, datetime

from stackwatch.domain.metricmath._context import Arg, Context, Impl, scalar
from stackwatch.domain.metricmath._model import Series
from stackwatch.domain.metricmath._series import Value, constant, grid, make, map_values, points, safe, union


def elementwise(fn: Callable[[float], float]) -> Impl:
    def impl(args: list[Arg], ctx: Context) -> Value:
        x = args[0]
        if isinstance(x, Series):
            return map_values(x, fn)
        if isinstance(x, tuple):
            return tuple(map_values(s, fn) for s in x)
        assert isinstance(x, float)
        return safe(fn, x)
    return impl


def per_series(fn: Callable[[Series, Context], Series]) -> Impl:
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


def aggregate(name: str) -> Impl:
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


def _consecutive(series: Series, fn: Callable[[float, float, float, float], float]) -> Series:
    ts, vs = series.timestamps, series.values
    return make(((ts[i], safe(fn, ts[i - 1], vs[i - 1], ts[i], vs[i])) for i in range(1, len(ts))),
                series.label, series.ref)


def diff(s: Series, ctx: Context) -> Series:
    return _consecutive(s, lambda t0, v0, t1, v1: v1 - v0)


def diff_time(s: Series, ctx: Context) -> Series:
    return _consecutive(s, lambda t0, v0, t1, v1: t1 - t0)


def rate(s: Series, ctx: Context) -> Series:
    return _consecutive(s, lambda t0, v0, t1, v1: (v1 - v0) / (t1 - t0))


def running_sum(s: Series, ctx: Context) -> Series:
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


def fill(args: list[Arg], ctx: Context) -> Value:
    x, filler = args
    if isinstance(x, tuple):
        return tuple(_fill_one(s, filler, ctx) for s in x)
    assert isinstance(x, Series)
    return _fill_one(x, filler, ctx)


def date_part(fn: Callable[[datetime], float]) -> Impl:
    """MINUTE, HOUR, ...: a non-sparse series over the argument's period grid, from each UTC time."""
    def impl(args: list[Arg], ctx: Context) -> Value:
        x = args[0]
        assert isinstance(x, Series)
        return make((t, fn(datetime.fromtimestamp(t, UTC))) for t in _series_grid(x, ctx))
    return impl


def period(args: list[Arg], ctx: Context) -> Value:
    """PERIOD(m1): the period of the metric, in seconds."""
    x = args[0]
    assert isinstance(x, Series)
    return float(x.ref.period if x.ref else ctx.period)


def time_series(args: list[Arg], ctx: Context) -> Value:
    """TIME_SERIES(S): the scalar at every point of the query's period grid (no points if it has no value)."""
    return constant(scalar(args[0]), grid(ctx.start, ctx.end, ctx.period))


def if_(args: list[Arg], ctx: Context) -> Value:
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
        if picked is None:  # IF(0, x): no value at all
            return make(()) if isinstance(yes, Series) else math.nan
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
            out.append((t, yes_map.get(t, 0.0) if yes_map is not None else scalar(yes)))
        elif no_map is not None:
            if t in no_map:
                out.append((t, no_map[t]))
        elif no is not None:
            out.append((t, scalar(no)))
    return make(out)

