"""Point-wise building blocks over :class:`Series`: the time grid, alignment, and clean-up.

The rules every function and operator shares live here, once:

- A point whose value is not finite (division by zero, ``LOG(0)``, overflow) is *dropped*, as
  CloudWatch drops a point that would divide by zero. :func:`make` enforces it.
- Combining series works on the *union* of their timestamps; where one side has no point the
  caller decides (arithmetic and comparison read it as 0, per the metric math documentation).
- The *period grid* ``start, start + period, ... < end`` is where FILL, TIME_SERIES and the
  date functions put the points a series lacks.

A runtime value is a ``float`` (scalar), a :class:`Series` (TS) or a ``tuple`` of them (TS[]).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence

from stackwatch import errors
from stackwatch.domain.metricmath._model import MetricRef, Series

Value = float | Series | tuple[Series, ...]

#: Grids longer than this are refused: GetMetricData returns at most 100,800 points per call.
MAX_GRID_POINTS = 100_800


def make(points: Iterable[tuple[float, float]], label: str = "", ref: MetricRef | None = None) -> Series:
    """Build a series from (timestamp, value) pairs in ascending time, dropping non-finite values."""
    kept = [(t, v) for t, v in points if math.isfinite(v)]
    return Series(tuple(t for t, _ in kept), tuple(v for _, v in kept), label, ref)


def normalize(series: Series) -> Series:
    """Return ``series`` sorted by time (pages may arrive newest-first); duplicates are a shell bug.

    Raises:
        InternalFailure: two points share a timestamp, or the parallel tuples differ in length.
    """
    if len(series.timestamps) != len(series.values):
        raise errors.InternalFailure("metric math: a series has different numbers of timestamps and values")
    pairs = sorted(zip(series.timestamps, series.values, strict=True))
    for (t1, _), (t2, _) in zip(pairs, pairs[1:], strict=False):
        if t1 == t2:
            raise errors.InternalFailure(f"metric math: a series has two points at timestamp {t1}")
    return make(pairs, series.label, series.ref)


def points(series: Series) -> dict[float, float]:
    """Timestamp → value."""
    return dict(zip(series.timestamps, series.values, strict=True))


def grid(start: float, end: float, period: int) -> tuple[float, ...]:
    """The period grid ``start, start + period, ...`` up to, not including, ``end``.

    Raises:
        InvalidParameterValue: the grid would hold more than :data:`MAX_GRID_POINTS` points.
    """
    if period <= 0 or end <= start:
        return ()
    count = math.ceil((end - start) / period)
    if count > MAX_GRID_POINTS:
        raise errors.InvalidParameterValue(
            f"The time range holds {count} periods of {period} seconds; metric math returns at most "
            f"{MAX_GRID_POINTS} datapoints per series.")
    return tuple(float(start + i * period) for i in range(count))


def union(series: Sequence[Series]) -> list[float]:
    """Every timestamp present in any of ``series``, ascending."""
    return sorted({t for s in series for t in s.timestamps})


def map_values(series: Series, fn: Callable[[float], float]) -> Series:
    """Apply ``fn`` to every value, keeping label and ref; non-finite results are dropped."""
    return make(((t, safe(fn, v)) for t, v in zip(series.timestamps, series.values, strict=True)),
                series.label, series.ref)


def safe(fn: Callable[..., float], *args: float) -> float:
    """``fn(*args)``, with any arithmetic failure (or a complex result) read as NaN (a dropped point)."""
    try:
        result = fn(*args)
    except (ZeroDivisionError, OverflowError, ValueError):
        return math.nan
    return result if isinstance(result, float | int) else math.nan


def constant(value: float, stamps: Sequence[float], label: str = "") -> Series:
    """A series holding ``value`` at every timestamp of ``stamps`` (empty when value is NaN)."""
    return make(((t, value) for t in stamps), label)
