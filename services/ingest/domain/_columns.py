"""PutMetricData in bulk: datums as columns, validated column by column where that is exact.

A request may carry datums as rows (:class:`~._validate.RawDatum`, one per ``MetricDatum``) or as
columns (:class:`DatumColumns`, one list per field; see ``MetricDataColumns`` in the protos). Both
give the same result, a :class:`~stackwatch.domain.metrics.DatumBatch`, or the same error::

    validate_request(namespace, rows, columns, now)
        ├── columns only, and every datum in a common form       fast path: a few passes over each
        │   (a Value, or Values with positive Counts; lengths,      column with builtins; a Values
        │   units, resolutions, times in range)                     datum reduced with the reference's
        │                                                           own arithmetic
        └── anything else (rows, other forms, any doubt at all)  validate_put() on rows, the
                                                                    reference; errors come from it

The fast path only ever *accepts*: when one of its checks fails it does not work out the error, it
hands the request to :func:`~._validate.validate_put`, which finds the first violation and words it.
So the two paths cannot disagree about an error, and where the fast path accepts, its batch equals
what ``validate_put`` returns (the property test in ``tests/unit/test_columns.py`` checks both).
"""

from __future__ import annotations

import math
import operator
from collections.abc import Sequence
from typing import NamedTuple

from services.ingest.domain._identity import MAX_DIMENSION_VALUE, MAX_DIMENSIONS, MAX_NAME, check_namespace
from services.ingest.domain._validate import (
    MAX_AGE,
    MAX_AHEAD,
    MAX_DATUMS,
    MAX_VALUES,
    STANDARD_UNITS,
    VALUE_LIMIT,
    RawDatum,
    validate_put,
)
from stackwatch import errors
from stackwatch.domain.metrics import DatumBatch, Dimension, Dimensions

FORM_VALUE, FORM_STATISTIC_VALUES, FORM_VALUES = 1, 2, 4
_FAST_FORMS = frozenset({FORM_VALUE, FORM_VALUES})
_FAST_UNITS = frozenset(STANDARD_UNITS) | {""}
_FAST_RESOLUTIONS = frozenset({0, 1, 60})


class DatumColumns(NamedTuple):
    """Datums as received in ``MetricDataColumns``, not yet validated (plain lists).

    Per-datum lists have one entry per metric name or are empty ("absent everywhere"); flattened
    lists hold each datum's entries in turn, as many as its count says. See the proto for each.
    """

    metric_names: Sequence[str]
    dimension_counts: Sequence[int] = ()
    dimension_names: Sequence[str] = ()
    dimension_values: Sequence[str] = ()
    timestamps: Sequence[float] = ()
    forms: Sequence[int] = ()
    values: Sequence[float] = ()
    sample_counts: Sequence[float] = ()
    sums: Sequence[float] = ()
    minimums: Sequence[float] = ()
    maximums: Sequence[float] = ()
    value_list_counts: Sequence[int] = ()
    value_list: Sequence[float] = ()
    count_list_counts: Sequence[int] = ()
    count_list: Sequence[float] = ()
    units: Sequence[str] = ()
    storage_resolutions: Sequence[int] = ()


_PER_DATUM = ("dimension_counts", "timestamps", "forms", "values", "sample_counts", "sums", "minimums",
              "maximums", "value_list_counts", "count_list_counts", "units", "storage_resolutions")
_FLATTENED = (("dimension_counts", "dimension_names"), ("dimension_counts", "dimension_values"),
              ("value_list_counts", "value_list"), ("count_list_counts", "count_list"))


def _check_shape(cols: DatumColumns) -> None:
    """Raise ``InvalidParameterValue`` for columns that do not line up (a caller's bug)."""
    n = len(cols.metric_names)
    for name in _PER_DATUM:
        size = len(getattr(cols, name))
        if size not in (0, n):
            raise errors.InvalidParameterValue(
                f"The column metric_columns.{name} has {size} entries for {n} datums (want {n} or none).")
    for counts, flat in _FLATTENED:
        want = sum(getattr(cols, counts))
        if len(getattr(cols, flat)) != want:
            raise errors.InvalidParameterValue(
                f"The column metric_columns.{flat} has {len(getattr(cols, flat))} entries; "
                f"metric_columns.{counts} adds up to {want}.")


def columns_to_rows(cols: DatumColumns) -> list[RawDatum]:
    """The datums of ``cols`` as rows, exactly as if each had come as a ``MetricDatum``.

    Raises:
        InvalidParameterValue: the columns do not line up.
    """
    _check_shape(cols)
    c = cols
    n = len(c.metric_names)
    has_stats = bool(c.sample_counts and c.sums and c.minimums and c.maximums)
    d = v = k = 0
    rows = []
    for i in range(n):
        nd = c.dimension_counts[i] if c.dimension_counts else 0
        nv = c.value_list_counts[i] if c.value_list_counts else 0
        nc = c.count_list_counts[i] if c.count_list_counts else 0
        ts = c.timestamps[i] if c.timestamps else math.nan
        form = c.forms[i] if c.forms else FORM_VALUE
        rows.append(RawDatum(
            metric_name=c.metric_names[i],
            dimensions=tuple(zip(c.dimension_names[d:d + nd], c.dimension_values[d:d + nd], strict=True)),
            timestamp=None if math.isnan(ts) else ts,
            value=c.values[i] if form & FORM_VALUE and c.values else None,
            statistic_values=((c.sample_counts[i], c.sums[i], c.minimums[i], c.maximums[i])
                              if form & FORM_STATISTIC_VALUES and has_stats else None),
            values=tuple(c.value_list[v:v + nv]) if form & FORM_VALUES else (),
            counts=tuple(c.count_list[k:k + nc]),
            unit=(c.units[i] if c.units else "") or None,
            storage_resolution=(c.storage_resolutions[i] if c.storage_resolutions else 0) or None))
        d, v, k = d + nd, v + nv, k + nc
    return rows


def validate_request(namespace: str, rows: Sequence[RawDatum], cols: DatumColumns | None,
                     now: float) -> DatumBatch:
    """Validate a PutMetricData request given as rows, columns or both (rows first).

    Returns:
        The validated datums, in request order.

    Raises:
        The errors of :func:`~._validate.validate_put` (and ``InvalidParameterValue`` for columns
        that do not line up).
    """
    if cols is not None and not rows:
        batch = _fast(namespace, cols, now)
        if batch is not None:
            return batch
    all_rows = list(rows) + (columns_to_rows(cols) if cols is not None else [])
    return DatumBatch.from_datums(namespace, validate_put(namespace, all_rows, now))


def _fast(namespace: str, cols: DatumColumns, now: float) -> DatumBatch | None:
    """The batch, if every datum is a valid Value or Values list; None when the reference must decide."""
    names = cols.metric_names
    n = len(names)
    if not 0 < n <= MAX_DATUMS or len(cols.values) != n:
        return None
    forms = cols.forms
    kinds = set(forms) if forms else {FORM_VALUE}
    if not _FAST_FORMS.issuperset(kinds):
        return None
    lists = FORM_VALUES in kinds
    if not lists and (any(cols.value_list_counts) or any(cols.count_list_counts)):
        return None
    try:
        _check_shape(cols)
    except errors.InvalidParameterValue:
        return None
    check_namespace(namespace)  # the reference checks it first too: same error either way
    if not all(0 < len(x) <= MAX_NAME for x in set(names)):  # a request repeats a few names
        return None
    lim = VALUE_LIMIT
    values = cols.values
    if not all(-lim <= x <= lim for x in values):  # NaN fails every comparison (lists' slots hold 0.0)
        return None
    units, resolutions = cols.units, cols.storage_resolutions
    if not _FAST_UNITS.issuperset(units) or not _FAST_RESOLUTIONS.issuperset(resolutions):
        return None
    timestamps = _timestamps(cols.timestamps, n, now)
    dimensions = _dimensions(cols)
    if timestamps is None or dimensions is None:
        return None
    unit_list = [u or "None" for u in units] if units else ["None"] * n
    resolution_list = [r or 60 for r in resolutions] if resolutions else [60] * n
    if lists:
        reduced = _value_lists(cols)
        if reduced is None:
            return None
        return DatumBatch(namespace, list(names), dimensions, timestamps, *reduced, unit_list, resolution_list)
    values_list = [float(x) for x in values]
    return DatumBatch(
        namespace=namespace, metric_names=list(names), dimensions=dimensions, timestamps=timestamps,
        sample_counts=[1.0] * n, sums=values_list, minimums=values_list, maximums=values_list,
        values=[(x,) for x in values_list], counts=[(1.0,)] * n, units=unit_list, resolutions=resolution_list)


Reduced = tuple[list[float], list[float], list[float], list[float], list[tuple[float, ...]], list[tuple[float, ...]]]


def _value_lists(cols: DatumColumns) -> Reduced | None:
    """Statistic sets, values and counts of a mix of Value and Values datums, as the reference makes them.

    Every value and count is checked in one pass over the flat lists first; then each datum is
    reduced with the reference's own arithmetic (``math.fsum`` of the counts and of value x count,
    ``min``/``max`` of the values kept), so the results are equal, not just close. A datum whose
    counts hold a zero (the reference drops those values, or the whole datum) is left to it.
    """
    flat_values, flat_counts = cols.value_list, cols.count_list
    if not _within(flat_values, -VALUE_LIMIT) or not _within(flat_counts, 0.0, low_open=True):
        return None  # NaN, infinities, out of range, and counts of zero or less: the reference
    n = len(cols.metric_names)
    forms = cols.forms
    value_counts = cols.value_list_counts or [0] * n
    count_counts = cols.count_list_counts or [0] * n
    counts_out: list[float] = []
    sums: list[float] = []
    lows: list[float] = []
    highs: list[float] = []
    kept: list[tuple[float, ...]] = []
    weights: list[tuple[float, ...]] = []
    v = k = 0
    one = (1.0,)
    for i, (form, nv, nc) in enumerate(zip(forms, value_counts, count_counts, strict=True)):
        if form == FORM_VALUE:
            if nv or nc:
                return None
            x = cols.values[i]
            counts_out.append(1.0)
            sums.append(x)
            lows.append(x)
            highs.append(x)
            kept.append((x,))
            weights.append(one)
            continue
        if not 0 < nv <= MAX_VALUES or nc not in (0, nv):
            return None
        xs = tuple(flat_values[v:v + nv])
        if nc:
            cs = tuple(flat_counts[k:k + nc])
            counts_out.append(math.fsum(cs))
            sums.append(math.fsum(map(operator.mul, xs, cs)))
        else:
            cs = one * nv
            counts_out.append(math.fsum(cs))
            sums.append(math.fsum(xs))
        lows.append(min(xs))
        highs.append(max(xs))
        kept.append(xs)
        weights.append(cs)
        v, k = v + nv, k + nc
    return counts_out, sums, lows, highs, kept, weights


def _within(xs: Sequence[float], low: float, *, low_open: bool = False) -> bool:
    """Every x finite and in [low, VALUE_LIMIT] (or (low, VALUE_LIMIT]), in three passes in C.

    A sum that is finite proves there is no NaN and no infinity (either would make it NaN or
    infinite); then ``min`` and ``max`` are exact. A sum that overflows although every x is
    finite only sends the request to the reference, which decides exactly.
    """
    if not xs:
        return True
    if not math.isfinite(sum(xs)):
        return False
    lo = min(xs)
    return (lo > low if low_open else lo >= low) and max(xs) <= VALUE_LIMIT


def _timestamps(given: Sequence[float], n: int, now: float) -> list[float] | None:
    if not given:
        return [now] * n
    lo, hi = now - MAX_AGE, now + MAX_AHEAD
    if not all(lo <= t <= hi or t != t for t in given):
        return None
    return [now if t != t else float(t) for t in given]


def _dimensions(cols: DatumColumns) -> list[Dimensions] | None:
    """Each datum's canonical dimensions, each distinct set checked and built once."""
    counts = cols.dimension_counts
    if not counts:
        return [()] * len(cols.metric_names)
    if max(counts) > MAX_DIMENSIONS:
        return None
    names, values = cols.dimension_names, cols.dimension_values
    if not all(0 < len(x) <= MAX_NAME for x in set(names)) or \
            not all(0 < len(x) <= MAX_DIMENSION_VALUE for x in set(values)):
        return None
    known: dict[tuple[tuple[str, ...], tuple[str, ...]], Dimensions] = {}
    out: list[Dimensions] = []
    i = 0
    for count in counts:
        j = i + count
        key = (tuple(names[i:j]), tuple(values[i:j]))
        dims = known.get(key)
        if dims is None:
            if len(set(key[0])) != count:  # a name twice: let the reference word the error
                return None
            dims = known[key] = tuple(sorted(map(Dimension, key[0], key[1])))
        out.append(dims)
        i = j
    return out
