"""Functions over arrays of series: METRICS, SEARCH, CONCAT, FIRST, LAST, SLICE, SORT.

They keep each series as it is (label, metric); only which series, and in which order, changes.
"""

from __future__ import annotations

import math

from stackwatch.domain.metricmath._context import Arg, Context, array, scalar
from stackwatch.domain.metricmath._model import MetricRef, SearchCall, Series
from stackwatch.domain.metricmath._pointwise import REDUCERS
from stackwatch.domain.metricmath._series import Value, make, normalize


def first(args: list[Arg], ctx: Context) -> Value:
    arr = array(args[0])
    return arr[0] if arr else make(())


def last(args: list[Arg], ctx: Context) -> Value:
    arr = array(args[0])
    return arr[-1] if arr else make(())


def slice_array(args: list[Arg], ctx: Context) -> Value:
    """SLICE(array, start[, end]): zero-based, start included, end excluded (Python slicing)."""
    arr = array(args[0])
    start = int(scalar(args[1]))
    end = int(scalar(args[2])) if len(args) > 2 else None
    return arr[start:end]


def sort_array(args: list[Arg], ctx: Context) -> Value:
    """SORT(array, FUNC, ASC|DESC[, limit]); stable; a series with no value for FUNC goes last."""
    arr = array(args[0])
    reduce, descending = REDUCERS[str(args[1])], args[2] == "DESC"
    keyed = [(reduce(s.values), i, s) for i, s in enumerate(arr)]
    valued = [k for k in keyed if not math.isnan(k[0])]
    valued.sort(key=lambda k: -k[0] if descending else k[0])
    ordered = tuple(s for _, _, s in valued + [k for k in keyed if math.isnan(k[0])])
    return ordered[: int(scalar(args[3]))] if len(args) > 3 else ordered


def concat(args: list[Arg], ctx: Context) -> Value:
    out: list[Series] = []
    for x in args:
        out.extend(x if isinstance(x, tuple) else [x] if isinstance(x, Series) else [])
    return tuple(out)


def metrics(args: list[Arg], ctx: Context) -> Value:
    """METRICS(): every MetricStat query of the request; METRICS('x'): those whose Id contains x."""
    needle = str(args[0]) if args else ""
    return tuple(s for qid, s in zip(ctx.metric_ids, ctx.metrics, strict=True) if needle in qid)


def search(args: list[Arg], ctx: Context) -> Value:
    """SEARCH: the series the shell found for this call, in a canonical order (by metric identity)."""
    call = SearchCall(str(args[0]), str(args[1]), int(scalar(args[2])))
    hits = [normalize(s) for s in ctx.searched.get(call, ())]
    hits.sort(key=lambda s: (_ref_key(s.ref), s.label, s.timestamps, s.values))
    refs = [s.ref for s in hits if s.ref is not None]
    return tuple(s if s.label or s.ref is None
                 else Series(s.timestamps, s.values, ctx.default_label(s.ref, refs), s.ref) for s in hits)


def _ref_key(ref: MetricRef | None) -> tuple[str, str, tuple[tuple[str, str], ...], str, int]:
    if ref is None:
        return ("", "", (), "", 0)
    return (ref.namespace, ref.metric_name, ref.dimensions, ref.stat, ref.period)

