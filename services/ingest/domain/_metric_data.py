"""GetMetricData: the request checked and planned, MetricStat data made series, results paged.

The servicer converts the request to a :class:`MetricDataRequest` and does the I/O this module
plans; everything CloudWatch decides is here::

    plan_metric_data(request, now)        -> MetricDataPlan   every validation rule, in order
    fetches(plan, account)                -> [Fetch]          the store queries: one per distinct
                                                              (range, period, unit), many series each
    metric_series(plan, account, fetched) -> {id: Series}     each bucket's statistic (_statistics)
    results(plan, series)                 -> [Result]         ReturnData queries, in request order
    page(results, scan_by, offset, size)  -> (page, next)     MaxDatapoints / NextToken

:class:`Series` and :class:`Result` have the fields of ``stackwatch.domain.metricmath``'s types of
the same names, so metric math takes the fetched series as they are.

**Validation**, in this order (paths query-style, as CloudWatch names them): 1 to 500 queries;
StartTime before EndTime; ``ScanBy`` one of its two values; ``MaxDatapoints`` at least 1;
``LabelOptions.Timezone`` of the form ``+HHMM``/``-HHMM``; then per query ``N``: ``Id`` present,
starting with a lowercase letter and holding only letters, digits and underscores, and unique;
exactly one of ``MetricStat`` and ``Expression``; for a MetricStat its metric (as
GetMetricStatistics checks one), ``Period`` (1, 5, 10, 20, 30 or a multiple of 60), ``Stat``
(any statistic :func:`~._statistics.parse_statistic` accepts) and ``Unit``. The wording of the Id
messages is not confirmed against CloudWatch [unverified].

**Time.** Each MetricStat is rounded and checked for granularity exactly as GetMetricStatistics
is (:func:`~._query.rounded_range`): the start rounds down by its age, and a period finer than
CloudWatch keeps for that age gives no datapoints. There is no 1,440 limit here: a call returns
at most 100,800 datapoints per page (``MaxDatapoints``, default and ceiling 100,800) and pages on.
Without a ``Unit`` a period's data of every unit counts together.

**Pages.** The datapoints of all results, in request order and within a result in ``ScanBy``
order (newest first by default), are one sequence; a page is the next ``MaxDatapoints`` of it.
Every page lists every returned query (an empty slice when its data lies on other pages);
``StatusCode`` is ``PartialData`` for a result with datapoints on a later page, else
``Complete``. The token holds the offset and a fingerprint of the request, so a token given with
another request is refused as invalid.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from services.ingest.domain._identity import check_dimensions, check_metric_name, check_namespace, check_size, require
from services.ingest.domain._query import check_period, check_time_range, check_unit, rounded_range
from services.ingest.domain._statistics import Statistic, parse_statistic, statistic_value
from stackwatch import errors
from stackwatch.domain.metrics import Dimensions, StatisticSet, series_id

MAX_QUERIES = 500
MAX_DATAPOINTS = 100_800
SCAN_BY = ("TimestampDescending", "TimestampAscending")
_ID = re.compile(r"[a-z][A-Za-z0-9_]*")
_TIMEZONE = re.compile(r"[+-]([01][0-9]|2[0-3])[0-5][0-9]")
_Q = "MetricDataQueries.member"

#: A store bucket of one series: (start, count, sum, min, max, histogram sorted by value).
SeriesBucket = tuple[int, float, float, float, float, Sequence[tuple[float, float]]]


@dataclass(frozen=True, slots=True)
class MetricStatQuery:
    """A query's ``MetricStat`` as sent.

    Attributes:
        namespace: ``Metric.Namespace``.
        metric_name: ``Metric.MetricName``.
        dimensions: ``Metric.Dimensions`` as (name, value) pairs, in any order.
        period: ``Period``; 0 when absent.
        stat: ``Stat``; empty when absent.
        unit: ``Unit``; ``None`` when absent.
    """

    namespace: str
    metric_name: str
    dimensions: tuple[tuple[str, str], ...]
    period: int
    stat: str
    unit: str | None = None


@dataclass(frozen=True, slots=True)
class DataQuery:
    """One ``MetricDataQuery`` as sent.

    Attributes:
        id: ``Id``.
        metric_stat: ``MetricStat``; ``None`` when absent.
        expression: ``Expression``; ``None`` when absent.
        label: ``Label``; ``None`` when absent.
        return_data: ``ReturnData`` (true when absent).
        period: ``Period`` (for expressions); ``None`` when absent.
    """

    id: str
    metric_stat: MetricStatQuery | None = None
    expression: str | None = None
    label: str | None = None
    return_data: bool = True
    period: int | None = None


@dataclass(frozen=True, slots=True)
class MetricDataRequest:
    """A GetMetricData request as sent (the token is the servicer's business).

    Attributes:
        queries: ``MetricDataQueries``.
        start: ``StartTime``, epoch seconds.
        end: ``EndTime``, epoch seconds.
        scan_by: ``ScanBy``; ``None`` when absent.
        max_datapoints: ``MaxDatapoints``; ``None`` when absent.
        timezone: ``LabelOptions.Timezone``; ``None`` when absent.
    """

    queries: tuple[DataQuery, ...]
    start: float
    end: float
    scan_by: str | None = None
    max_datapoints: int | None = None
    timezone: str | None = None


@dataclass(frozen=True, slots=True)
class PlannedStat:
    """A valid MetricStat query, with its buckets' range.

    Attributes:
        id: the query's id.
        namespace: the metric's namespace.
        metric_name: the metric's name.
        dimensions: its dimensions, canonical.
        period: bucket length, seconds.
        statistic: the parsed statistic.
        unit: only data of this unit; ``None``: every unit.
        start: first bucket start (rounded), epoch seconds.
        end: exclusive end, epoch seconds.
        empty: the period is too fine for the start's age: no data.
    """

    id: str
    namespace: str
    metric_name: str
    dimensions: Dimensions
    period: int
    statistic: Statistic
    unit: str | None
    start: int
    end: int
    empty: bool


@dataclass(frozen=True, slots=True)
class MetricDataPlan:
    """What a valid GetMetricData request asks for.

    Attributes:
        queries: the queries as sent.
        stats: the MetricStat queries, planned, in request order.
        scan_by: ``TimestampDescending`` or ``TimestampAscending``.
        page_size: most datapoints per page.
        timezone: ``LabelOptions.Timezone``; ``None`` for UTC.
        fingerprint: identifies the request (not its page size), binding page tokens to it.
    """

    queries: tuple[DataQuery, ...]
    stats: tuple[PlannedStat, ...]
    scan_by: str
    page_size: int
    timezone: str | None
    fingerprint: str


@dataclass(frozen=True, slots=True)
class Fetch:
    """One store query: these series' buckets over one range, period and unit.

    Attributes:
        start: first bucket start.
        end: exclusive end.
        period: bucket length.
        unit: unit filter, or ``None``.
        histograms: whether any of its statistics needs the values.
        series: the series ids, sorted, distinct.
    """

    start: int
    end: int
    period: int
    unit: str | None
    histograms: bool
    series: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Series:
    """A query's datapoints, ascending by time (``metricmath.Series`` has the same fields).

    Attributes:
        timestamps: bucket starts, epoch seconds, ascending.
        values: the statistic per bucket, parallel to ``timestamps``.
        label: the default label (the metric name).
    """

    timestamps: tuple[float, ...]
    values: tuple[float, ...]
    label: str


@dataclass(frozen=True, slots=True)
class Result:
    """One returned query's result, ascending by time (``metricmath.Result`` has the same fields).

    Attributes:
        id: the query's id.
        label: its label.
        timestamps: ascending.
        values: parallel to ``timestamps``.
        status: ``Complete`` or ``PartialData``.
        messages: (code, value) pairs.
    """

    id: str
    label: str
    timestamps: tuple[float, ...]
    values: tuple[float, ...]
    status: str = "Complete"
    messages: tuple[tuple[str, str], ...] = ()


def plan_metric_data(request: MetricDataRequest, now: float) -> MetricDataPlan:
    """Validate a GetMetricData request and plan its MetricStat queries (see the module docstring).

    Args:
        request: the request.
        now: the current time, epoch seconds.

    Raises:
        MissingParameter: no queries, or a query without Id, or a MetricStat without a member.
        InvalidParameterValue: any other invalid parameter.
        InvalidParameterCombination: a query with both or neither of MetricStat and Expression.
    """
    queries = request.queries
    if not queries:
        raise errors.MissingParameter("The parameter MetricDataQueries is required.")
    check_size(queries, "MetricDataQueries", MAX_QUERIES)
    check_time_range(request.start, request.end)
    scan_by = request.scan_by or SCAN_BY[0]
    if scan_by not in SCAN_BY:
        raise errors.InvalidParameterValue(
            f"The parameter ScanBy must be a value in the set [ {', '.join(SCAN_BY)} ].")
    if request.max_datapoints is not None and request.max_datapoints < 1:
        raise errors.InvalidParameterValue("The parameter MaxDatapoints must be greater than or equal to 1.")
    if request.timezone is not None and not _TIMEZONE.fullmatch(request.timezone):
        raise errors.InvalidParameterValue(
            f"The value {request.timezone} for parameter LabelOptions.Timezone is invalid.")
    seen: set[str] = set()
    stats = []
    for n, query in enumerate(queries, 1):
        _check_id(query.id, n, seen)
        if (query.metric_stat is None) == (query.expression is None):
            raise errors.InvalidParameterCombination(
                f"The parameters {_Q}.{n}.MetricStat and {_Q}.{n}.Expression are mutually exclusive and you "
                "have specified both." if query.metric_stat is not None else
                f"At least one of the parameters {_Q}.{n}.MetricStat and {_Q}.{n}.Expression must be specified.")
        if query.metric_stat is not None:
            stats.append(_plan_stat(query.id, query.metric_stat, f"{_Q}.{n}.MetricStat", request, now))
    return MetricDataPlan(
        queries=queries, stats=tuple(stats), scan_by=scan_by,
        page_size=min(request.max_datapoints or MAX_DATAPOINTS, MAX_DATAPOINTS), timezone=request.timezone,
        fingerprint=_fingerprint(request, scan_by))


def _check_id(query_id: str, n: int, seen: set[str]) -> None:
    require(query_id, f"{_Q}.{n}.Id")
    if not _ID.fullmatch(query_id) or len(query_id) > 255:
        raise errors.InvalidParameterValue(
            f"The value {query_id} for parameter {_Q}.{n}.Id is invalid. The Id must start with a lowercase "
            "letter and contain only letters, numbers and underscores.")
    if query_id in seen:
        raise errors.InvalidParameterValue(f"The value {query_id} for parameter {_Q}.{n}.Id is not unique.")
    seen.add(query_id)


def _plan_stat(query_id: str, ms: MetricStatQuery, path: str, request: MetricDataRequest,
               now: float) -> PlannedStat:
    check_namespace(ms.namespace, f"{path}.Metric.Namespace")
    check_metric_name(ms.metric_name, f"{path}.Metric.MetricName")
    dims = check_dimensions(ms.dimensions, f"{path}.Metric.Dimensions")
    if not ms.period:
        raise errors.MissingParameter(f"The parameter {path}.Period is required.")
    check_period(ms.period, f"{path}.Period")
    require(ms.stat, f"{path}.Stat")
    statistic = parse_statistic(ms.stat, f"{path}.Stat")
    check_unit(ms.unit, f"{path}.Unit")
    start, end, empty = rounded_range(request.start, request.end, ms.period, now)
    return PlannedStat(query_id, ms.namespace, ms.metric_name, dims, ms.period, statistic, ms.unit, start, end,
                       empty)


def _fingerprint(request: MetricDataRequest, scan_by: str) -> str:
    text = repr((request.queries, int(request.start), int(request.end), scan_by, request.timezone))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def fetches(plan: MetricDataPlan, account: str) -> list[Fetch]:
    """The store queries the plan's MetricStat queries need: one per distinct (range, period, unit)."""
    groups: dict[tuple[int, int, int, str | None], tuple[set[int], list[bool]]] = {}
    for s in plan.stats:
        if s.empty:
            continue
        ids, needs = groups.setdefault((s.start, s.end, s.period, s.unit), (set(), [False]))
        ids.add(series_id(account, s.namespace, s.metric_name, s.dimensions))
        needs[0] = needs[0] or s.statistic.needs_values
    return [Fetch(start, end, period, unit, needs[0], tuple(sorted(ids)))
            for (start, end, period, unit), (ids, needs) in groups.items()]


def metric_series(plan: MetricDataPlan, account: str,
                  fetched: Mapping[Fetch, Mapping[int, Sequence[SeriesBucket]]]) -> dict[str, Series]:
    """Each MetricStat query's series: its statistic per bucket (buckets without a value left out).

    Args:
        plan: the plan.
        account: the caller's account (series ids are per account).
        fetched: each of :func:`fetches`' queries with the store's answer.
    """
    by_key = {(f.start, f.end, f.period, f.unit): rows for f, rows in fetched.items()}
    out = {}
    for s in plan.stats:
        rows = () if s.empty else by_key.get((s.start, s.end, s.period, s.unit), {}).get(
            series_id(account, s.namespace, s.metric_name, s.dimensions), ())
        stamps, values = [], []
        for start, count, total, lo, hi, hist in rows:
            v = statistic_value(s.statistic, StatisticSet(count, total, lo, hi), hist or None)
            if v is not None:
                stamps.append(float(start))
                values.append(v)
        out[s.id] = Series(tuple(stamps), tuple(values), s.metric_name)
    return out


def results(plan: MetricDataPlan, series: Mapping[str, Series]) -> list[Result]:
    """The results of the queries with ReturnData, in request order (MetricStat queries only).

    A query's label is its ``Label`` when given, else the metric name.
    """
    out = []
    for q in plan.queries:
        if not q.return_data or q.id not in series:
            continue
        s = series[q.id]
        out.append(Result(q.id, q.label if q.label is not None else s.label, s.timestamps, s.values))
    return out


def page(all_results: Sequence[Result], scan_by: str, offset: int, size: int) -> tuple[list[Result], int | None]:
    """One page of datapoints: every result sliced to the page, and the next page's offset.

    Args:
        all_results: every result, ascending by time.
        scan_by: the order of datapoints within a result.
        offset: datapoints of the whole sequence already returned by earlier pages.
        size: most datapoints on this page.

    Returns:
        ``(results on this page in scan order, offset of the next page or None for the last)``.
    """
    out = []
    position = 0
    end = offset + size
    for r in all_results:
        stamps, values = r.timestamps, r.values
        if scan_by == "TimestampDescending":
            stamps, values = stamps[::-1], values[::-1]
        lo, hi = max(offset - position, 0), max(min(end - position, len(stamps)), 0)
        lo = min(lo, hi)
        status = "PartialData" if hi < len(stamps) else r.status
        out.append(Result(r.id, r.label, stamps[lo:hi], values[lo:hi], status, r.messages))
        position += len(stamps)
    return out, (end if position > end else None)
