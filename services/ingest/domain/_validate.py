"""PutMetricData: CloudWatch's validation of a whole request, and each datum reduced to a Datum.

:func:`validate_put` takes the request as plain values (:class:`RawDatum`, one per
``MetricDatum``, built by the servicer from protobuf) and the time it was received, and either
returns every datum as a :class:`~stackwatch.domain.metrics.Datum` or raises the first violation.
Nothing is partially accepted: one bad datum fails the request.

Checks, in the order they run for each datum ``N`` (paths as the error messages name them):

1. ``MetricData.member.N.MetricName`` and ``.Dimensions`` (see ``_identity``).
2. Which form the datum takes: ``Value``, ``StatisticValues``, a non-empty ``Values``, or
   ``StatisticValues`` with ``Values`` (CloudWatch accepts the pair; the CloudWatch agent sends its
   distributions that way). ``Value`` with either of the others is ``InvalidParameterCombination``
   ("... are mutually exclusive and you have specified both."). None of them is also
   ``InvalidParameterCombination``, with the message
   CloudWatch has been seen to return ("At least one of the parameters ...Value and
   ...StatisticValues must be specified."); an empty ``Values`` list counts as absent.
3. Every double (``Value``, each of ``Values`` and ``Counts``, each ``StatisticValues`` member)
   is finite and within ``[-2**360, 2**360]``, else ``InvalidParameterValue`` "The value NaN for
   parameter MetricData.member.1.Value is invalid." The value is printed as CloudWatch's Java
   service prints a double: ``NaN``, ``Infinity``, ``-Infinity``, ``2.5``, ``1.0E109``.
4. ``Values`` has at most 150 members; ``Counts`` is empty or as long as ``Values``; a count is
   not negative. A count of 0 says the value did not occur: the pair is dropped, and a datum whose
   counts are all 0 describes no samples and is dropped from the result (it is not an error).
5. ``StatisticValues``: ``SampleCount`` greater than 0 and ``Minimum <= Maximum``.
6. ``Unit``, when given, is one of the 27 ``StandardUnit`` strings; ``StorageResolution``, when
   given, is 1 or 60.
7. ``Timestamp``, when given, lies within ``[now - 14 days, now + 2 hours]``, both ends included.

The reduction: ``Value v`` is one sample (values ``(v,)``, counts ``(1.0,)``); ``Values`` with
``Counts`` (default 1.0 each) are those samples; ``StatisticValues`` is its statistic set with no
raw values, unless it pins every sample to one value (see
:func:`~._statistics.statistic_set_values`). ``StatisticValues`` with ``Values`` keeps both as
sent: the statistic set (exact, and what the basic statistics are computed from) and the values
with their counts (often bucketed by the client, and what percentiles are computed from); when the
counts do not add up to ``SampleCount`` the period's percentiles are withheld, as for any period
whose samples the values do not all describe. Missing Timestamp means ``now``, missing Unit
``"None"``, missing StorageResolution 60. Dimensions come out canonical (sorted by name).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from decimal import Decimal
from typing import NamedTuple

from services.ingest.domain._identity import check_dimensions, check_metric_name, check_namespace, check_size
from services.ingest.domain._statistics import statistic_set_values
from stackwatch import errors
from stackwatch.domain.metrics import Datum, Dimensions, StatisticSet

#: CloudWatch's ``StandardUnit`` enum, in the model's order (the order its error message lists).
STANDARD_UNITS = (
    "Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes", "Gigabytes",
    "Terabytes", "Bits", "Kilobits", "Megabits", "Gigabits", "Terabits", "Percent", "Count",
    "Bytes/Second", "Kilobytes/Second", "Megabytes/Second", "Gigabytes/Second", "Terabytes/Second",
    "Bits/Second", "Kilobits/Second", "Megabits/Second", "Gigabits/Second", "Terabits/Second",
    "Count/Second", "None",
)
_UNITS = frozenset(STANDARD_UNITS)
STORAGE_RESOLUTIONS = (1, 60)

MAX_DATUMS = 1000
MAX_VALUES = 150
#: Largest magnitude CloudWatch accepts for any double it is sent.
VALUE_LIMIT = 2.0**360
MAX_AGE = 14 * 86400
MAX_AHEAD = 2 * 3600


class RawDatum(NamedTuple):
    """One ``MetricDatum`` as the client sent it, not yet validated.

    A ``NamedTuple`` (immutable, and cheap to build a thousand times per request).

    Attributes:
        metric_name: ``MetricName``; empty when absent.
        dimensions: ``Dimensions`` as (name, value) pairs in the client's order.
        timestamp: ``Timestamp`` in epoch seconds; ``None`` means "when received".
        value: ``Value``; ``None`` when absent.
        statistic_values: ``StatisticValues`` as (sample_count, sum, minimum, maximum).
        values: ``Values``; empty when absent.
        counts: ``Counts``, parallel to ``values``; empty means 1.0 each.
        unit: ``Unit``; ``None`` when absent.
        storage_resolution: ``StorageResolution``; ``None`` when absent.
    """

    metric_name: str
    dimensions: tuple[tuple[str, str], ...]
    timestamp: float | None
    value: float | None
    statistic_values: tuple[float, float, float, float] | None
    values: tuple[float, ...]
    counts: tuple[float, ...]
    unit: str | None
    storage_resolution: int | None


def validate_put(namespace: str, raws: Sequence[RawDatum], now: float) -> list[Datum]:
    """Validate a PutMetricData request and reduce each datum to a :class:`Datum`.

    Args:
        namespace: the request's ``Namespace``.
        raws: the request's ``MetricData``, in order (``MetricData.member.1`` first).
        now: epoch seconds the request was received: the default timestamp and the reference of
            the two-weeks-back / two-hours-ahead window.

    Returns:
        One datum per input datum, in order, except datums whose counts are all zero.

    Raises:
        MissingParameter: no namespace, no datums, or a missing metric name / dimension part.
        InvalidParameterValue: more than 1000 datums, or any value rule (module docstring).
        InvalidParameterCombination: a datum with Value and StatisticValues or Values, or none of
            the three.
    """
    check_namespace(namespace)
    if not raws:
        raise errors.MissingParameter("The parameter MetricData is required.")
    check_size(raws, "MetricData", MAX_DATUMS)
    out: list[Datum] = []
    # Datums of one request mostly repeat a few dimension sets (one host, many metrics): each
    # distinct set is checked and made canonical once. An invalid set raises at its first use,
    # so the error names the same member it would without the cache.
    known: dict[tuple[tuple[str, str], ...], Dimensions] = {}
    for n, raw in enumerate(raws, 1):
        datum = _datum(namespace, raw, f"MetricData.member.{n}", now, known)
        if datum is not None:
            out.append(datum)
    return out


def _datum(namespace: str, raw: RawDatum, path: str, now: float,
           known: dict[tuple[tuple[str, str], ...], Dimensions]) -> Datum | None:
    check_metric_name(raw.metric_name, f"{path}.MetricName")
    dims = known.get(raw.dimensions)
    if dims is None:
        dims = known[raw.dimensions] = check_dimensions(raw.dimensions, f"{path}.Dimensions")
    _check_one_form(raw, path)
    reduced = _reduce(raw, path)
    unit = _unit(raw.unit, path)
    resolution = _storage_resolution(raw.storage_resolution, path)
    timestamp = _timestamp(raw.timestamp, path, now)
    if reduced is None:
        return None
    stats, values, counts = reduced
    return Datum(namespace=namespace, metric_name=raw.metric_name, dimensions=dims, timestamp=timestamp,
                 stats=stats, values=values, counts=counts, unit=unit, storage_resolution=resolution)


def _check_one_form(raw: RawDatum, path: str) -> None:
    given = [name for name, present in (("Value", raw.value is not None),
                                        ("StatisticValues", raw.statistic_values is not None),
                                        ("Values", bool(raw.values))) if present]
    if given == ["StatisticValues", "Values"]:
        return
    if len(given) > 1:
        raise errors.InvalidParameterCombination(
            f"The parameters {path}.{given[0]} and {path}.{given[1]} are mutually exclusive and you "
            "have specified both.")
    if not given:
        raise errors.InvalidParameterCombination(
            f"At least one of the parameters {path}.Value and {path}.StatisticValues must be specified.")


Reduced = tuple[StatisticSet, tuple[float, ...], tuple[float, ...]]


def _reduce(raw: RawDatum, path: str) -> Reduced | None:
    """The datum's statistic set, values and counts; ``None`` when its counts are all zero."""
    if raw.value is not None:
        _check_double(raw.value, f"{path}.Value")
        _check_counts_length((), raw.counts, path)
        v = raw.value
        return StatisticSet(sample_count=1.0, sum=v, minimum=v, maximum=v), (v,), (1.0,)
    if raw.statistic_values is not None and raw.values:
        stats = _statistic_set(raw.statistic_values, f"{path}.StatisticValues")
        described = _values_and_counts(raw.values, raw.counts, path)
        return stats, () if described is None else described[1], () if described is None else described[2]
    if raw.statistic_values is not None:
        stats = _statistic_set(raw.statistic_values, f"{path}.StatisticValues")
        _check_counts_length((), raw.counts, path)
        values, counts = statistic_set_values(stats)
        return stats, values, counts
    return _values_and_counts(raw.values, raw.counts, path)


def _statistic_set(given: tuple[float, float, float, float], path: str) -> StatisticSet:
    for member, x in zip(("SampleCount", "Sum", "Minimum", "Maximum"), given, strict=True):
        _check_double(x, f"{path}.{member}")
    sample_count, total, minimum, maximum = given
    if sample_count <= 0:
        raise errors.InvalidParameterValue(
            f"The value {java_double(sample_count)} for parameter {path}.SampleCount is invalid. "
            "SampleCount must be greater than 0.")
    if minimum > maximum:
        raise errors.InvalidParameterValue(
            f"The parameter {path}.Minimum must not be greater than the parameter {path}.Maximum.")
    return StatisticSet(sample_count=sample_count, sum=total, minimum=minimum, maximum=maximum)


def _values_and_counts(values: tuple[float, ...], counts: tuple[float, ...], path: str) -> Reduced | None:
    check_size(values, f"{path}.Values", MAX_VALUES)
    for k, v in enumerate(values, 1):
        _check_double(v, f"{path}.Values.member.{k}")
    _check_counts_length(values, counts, path)
    for k, c in enumerate(counts, 1):
        _check_double(c, f"{path}.Counts.member.{k}")
        if c < 0:
            raise errors.InvalidParameterValue(
                f"The value {java_double(c)} for parameter {path}.Counts.member.{k} is invalid. "
                "Counts must not be negative.")
    pairs = [(v, c) for v, c in zip(values, counts or (1.0,) * len(values), strict=True) if c > 0]
    if not pairs:
        return None
    kept = tuple(v for v, _ in pairs)
    weights = tuple(c for _, c in pairs)
    stats = StatisticSet(sample_count=math.fsum(weights), sum=math.fsum(v * c for v, c in pairs),
                         minimum=min(kept), maximum=max(kept))
    return stats, kept, weights


def _check_counts_length(values: tuple[float, ...], counts: tuple[float, ...], path: str) -> None:
    if counts and len(counts) != len(values):
        raise errors.InvalidParameterValue(
            f"The parameter {path}.Counts must have the same number of members as the parameter "
            f"{path}.Values ({len(counts)} given, {len(values)} expected).")


def _check_double(x: float, path: str) -> None:
    if not (math.isfinite(x) and -VALUE_LIMIT <= x <= VALUE_LIMIT):
        raise errors.InvalidParameterValue(f"The value {java_double(x)} for parameter {path} is invalid.")


def _unit(unit: str | None, path: str) -> str:
    if unit is None:
        return "None"
    if unit not in _UNITS:
        raise errors.InvalidParameterValue(
            f"The parameter {path}.Unit must be a value in the set [ {', '.join(STANDARD_UNITS)} ].")
    return unit


def _storage_resolution(resolution: int | None, path: str) -> int:
    if resolution is None:
        return 60
    if resolution not in STORAGE_RESOLUTIONS:
        raise errors.InvalidParameterValue(
            f"The parameter {path}.StorageResolution must be a value in the set [ 1, 60 ].")
    return resolution


def _timestamp(timestamp: float | None, path: str, now: float) -> float:
    if timestamp is None:
        return now
    if not math.isfinite(timestamp):
        raise errors.InvalidParameterValue(
            f"The value {java_double(timestamp)} for parameter {path}.Timestamp is invalid.")
    if timestamp < now - MAX_AGE:
        raise errors.InvalidParameterValue(
            f"The parameter {path}.Timestamp must specify a time within the past two weeks.")
    if timestamp > now + MAX_AHEAD:
        raise errors.InvalidParameterValue(
            f"The parameter {path}.Timestamp must specify a time no more than two hours in the future.")
    return timestamp


def java_double(x: float) -> str:
    """``x`` as Java's ``Double.toString`` writes it, which is how CloudWatch quotes a bad double.

    ``NaN``, ``Infinity`` and ``-Infinity`` for the special values; plain decimals with at least
    one fractional digit for magnitudes in ``[1e-3, 1e7)`` and for zero (``2.5``, ``100.0``);
    otherwise the shortest round-tripping digits in scientific form (``1.0E7``, ``2.3E109``).
    """
    x = float(x)
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    if x == 0 or 1e-3 <= abs(x) < 1e7:
        return repr(x)  # Python uses positional notation throughout this range, as Java does
    sign, digits, exponent = Decimal(repr(x)).normalize().as_tuple()
    assert isinstance(exponent, int)
    mantissa = f"{digits[0]}." + ("".join(map(str, digits[1:])) or "0")
    return f"{'-' if sign else ''}{mantissa}E{exponent + len(digits) - 1}"
