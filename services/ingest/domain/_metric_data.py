"""GetMetricData: the request checked and planned, MetricStat data fetched as series, results paged.

The servicer converts the request to a :class:`MetricDataRequest` and does the I/O this module
plans; everything CloudWatch decides is here or in the metric math engine
(:mod:`stackwatch.domain.metricmath`)::

    plan_metric_data(request, now)        -> MetricDataPlan   every validation rule, in order;
                                                              .math is metricmath's Plan
    fetches(plan.stats, account)          -> [Fetch]          the store queries: one per distinct
                                                              (range, period, unit), many series each
    metric_series(plan.stats, account, fetched) -> {id: Series}  each bucket's statistic
    evaluate_results(plan, series, searched, now) -> [Result] metricmath.evaluate: math, SEARCH,
                                                              labels; ReturnData queries in order
    page(results, scan_by, offset, size)  -> (page, next)     MaxDatapoints / NextToken

**Validation**, in this order (paths query-style, as CloudWatch names them): 1 to 500 queries;
StartTime before EndTime; ``ScanBy`` one of its two values; ``MaxDatapoints`` at least 1;
``LabelOptions.Timezone`` of the form ``+HHMM``/``-HHMM``; then what metricmath's ``plan()``
checks (Ids, exactly one of MetricStat and Expression, expression syntax, references, types);
then per MetricStat query ``N``: its metric (as GetMetricStatistics checks one), ``Period`` (1, 5,
10, 20, 30 or a multiple of 60), ``Stat`` (any statistic :func:`~._statistics.parse_statistic`
accepts) and ``Unit``.

**Time.** Each MetricStat is rounded and checked for granularity exactly as GetMetricStatistics
is (:func:`~._query.rounded_range`): the start rounds down by its age, and a period finer than
CloudWatch keeps for that age gives no datapoints. There is no 1,440 limit here: a call returns
at most 100,800 datapoints per page (``MaxDatapoints``, default and ceiling 100,800) and pages on.
Without a ``Unit`` a period's data of every unit counts together. Expressions are evaluated on the
grid of the call's finest MetricStat period (else the first query ``Period``, else the first
SEARCH's, else 60 s), from the start rounded for that period.

**Pages.** The datapoints of all results, in request order and within a result in ``ScanBy``
order (newest first by default), are one sequence; a page is the next ``MaxDatapoints`` of it.
Every page lists every returned result (an empty slice when its data lies on other pages);
``StatusCode`` is ``PartialData`` for a result with datapoints on a later page, else its own
status. The token holds the offset and a fingerprint of the request, so a token given with
another request is refused as invalid.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from services.ingest.domain._identity import check_dimensions, check_metric_name, check_namespace, check_size, require
from services.ingest.domain._metric_sources import (
    PlannedInsights,
    PlannedSearch,
    PlannedStat,
    is_insights,
    plan_insights,
    plan_searches,
)
from services.ingest.domain._query import check_period, check_time_range, check_unit, rounded_range
from services.ingest.domain._statistics import parse_statistic
from stackwatch import errors
from stackwatch.domain import metricmath
from stackwatch.domain.metricmath import MetricRef, Result, SearchCall, Series

MAX_QUERIES = 500
MAX_DATAPOINTS = 100_800
SCAN_BY = ("TimestampDescending", "TimestampAscending")
_TIMEZONE = re.compile(r"[+-]([01][0-9]|2[0-3])[0-5][0-9]")
_Q = "MetricDataQueries.member"


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
class MetricDataPlan:
    """What a valid GetMetricData request asks for.

    Attributes:
        queries: the queries as sent.
        stats: the MetricStat queries to fetch, planned, in request order.
        math: metric math's plan of every query but the Insights one.
        searches: the SEARCH calls of ``math.searches``, checked and planned.
        insights: the call's Metrics Insights query, or ``None``.
        start: the expressions' grid start (rounded for ``period``).
        end: the exclusive end.
        period: the expressions' default period.
        scan_by: ``TimestampDescending`` or ``TimestampAscending``.
        page_size: most datapoints per page.
        timezone: ``LabelOptions.Timezone``; ``None`` for UTC.
        fingerprint: identifies the request (not its page size), binding page tokens to it.
    """

    queries: tuple[DataQuery, ...]
    stats: tuple[PlannedStat, ...]
    math: metricmath.Plan
    searches: tuple[PlannedSearch, ...]
    insights: PlannedInsights | None
    start: int
    end: int
    period: int
    scan_by: str
    page_size: int
    timezone: str | None
    fingerprint: str


def plan_metric_data(request: MetricDataRequest, now: float) -> MetricDataPlan:
    """Validate a GetMetricData request and plan its MetricStat queries (see the module docstring).

    Args:
        request: the request.
        now: the current time, epoch seconds.

    Raises:
        MissingParameter: no queries, a query with neither MetricStat nor Expression, a MetricStat
            without one of its members.
        ValidationError: a bad or duplicate Id, or an expression metric math refuses.
        InvalidParameterValue: any other invalid parameter.
        InvalidParameterCombination: a query with both MetricStat and Expression.
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
    if any(_is_insights(q) for q in queries):  # its Id checked with the others', in request order
        metricmath.plan([_math_query(q) for q in queries])
    math = metricmath.plan([_math_query(q) for q in queries if not _is_insights(q)])
    planned = [_plan_stat(q.id, q.metric_stat, f"{_Q}.{n}.MetricStat", request, now)
               for n, q in enumerate(queries, 1) if q.metric_stat is not None]
    needed = set(math.metric_ids)
    stats = [s for s in planned if s.id in needed]  # every one checked, only these fetched
    period = _default_period(planned, queries, math.searches)
    start, end, _ = rounded_range(request.start, request.end, period, now)
    insights = plan_insights([(n, q.id, q.expression or "", q.label, q.period)
                              for n, q in enumerate(queries, 1) if _is_insights(q)],
                             request.start, request.end, period, now)
    return MetricDataPlan(
        queries=queries, stats=tuple(stats), math=math,
        searches=tuple(plan_searches(math.searches, request.start, request.end, now)), insights=insights,
        start=start, end=end, period=period, scan_by=scan_by,
        page_size=min(request.max_datapoints or MAX_DATAPOINTS, MAX_DATAPOINTS), timezone=request.timezone,
        fingerprint=_fingerprint(request, scan_by))


def _default_period(stats: Sequence[PlannedStat], queries: Sequence[DataQuery],
                    searches: Sequence[SearchCall]) -> int:
    """The expressions' grid: the finest MetricStat period, else the first query Period, else SEARCH's, else 60."""
    if stats:
        return min(s.period for s in stats)
    return next((q.period for q in queries if q.period), None) or next((c.period for c in searches), 60)


#: An Insights query's stand-in when metric math checks the Ids of every query: a metric.
_INSIGHTS_STAND_IN = MetricRef("", "\x00insights", (), "Sum", 60)


def _is_insights(q: DataQuery) -> bool:
    return q.metric_stat is None and is_insights(q.expression)


def _math_query(q: DataQuery) -> metricmath.Query:
    if _is_insights(q):
        return metricmath.Query(q.id, None, _INSIGHTS_STAND_IN, q.label, q.return_data, q.period)
    ms = q.metric_stat
    ref = None if ms is None else MetricRef(ms.namespace, ms.metric_name, tuple(sorted(ms.dimensions)), ms.stat,
                                            ms.period)
    return metricmath.Query(q.id, q.expression, ref, q.label, q.return_data, q.period)


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


def evaluate_results(plan: MetricDataPlan, series: Mapping[str, Series],
                     searched: Mapping[SearchCall, Sequence[Series]], insights: Sequence[Result],
                     now: float) -> list[Result]:
    """Every returned query's result, ascending by time, in request order (metricmath's evaluate).

    Args:
        plan: the plan.
        series: each fetched MetricStat query's series (:func:`~._metric_sources.metric_series`).
        searched: each of ``plan.math.searches`` with the series it matched.
        insights: the Insights query's results (:func:`~._metric_sources.insights_results`), or
            none when it does not return data; they take the query's place in request order.
        now: the current time, for relative times in dynamic labels.
    """
    out = metricmath.evaluate(plan.math, series, searched, start=plan.start, end=plan.end, period=plan.period,
                              timezone=plan.timezone, now=now)
    if plan.insights is None or not insights:
        return out
    order = {q.id: n for n, q in enumerate(plan.queries)}
    mine = order[plan.insights.id]
    if not plan.queries[mine].return_data:
        return out
    at = next((i for i, r in enumerate(out) if order[r.id] > mine), len(out))
    return [*out[:at], *insights, *out[at:]]


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
