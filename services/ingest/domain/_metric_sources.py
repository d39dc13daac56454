"""GetMetricData's other data sources: SEARCH matches and the Metrics Insights query.

:mod:`._metric_data` plans MetricStat queries and hands expressions to metric math; this module
plans what metric math cannot fetch itself, and turns what the store answers back into its types::

    MetricStat / SEARCH matches         fetches(stats, account) -> [Fetch]: one store query per distinct
                                        (range, period, unit), many series each
                                        metric_series(stats, account, fetched) -> {id: Series}
    SEARCH('{App} Latency', 'p99', 60)  plan_searches(calls, ...)   -> [PlannedSearch]  (parsed, checked)
                                        search_stats(search, rows, ...) -> [PlannedStat]: one per match,
                                        fetched like MetricStat queries (many series per store query)
                                        searched_series(searches, stats, series) -> {SearchCall: [Series]}
    Expression "SELECT ..."             plan_insights(queries, ...) -> PlannedInsights | None
                                        insights_results(plan, groups) -> [Result] (one per group)

Rules: a SEARCH's statistic and period are checked like a MetricStat's, and its query by
:func:`~._search.parse_search`; it finds the account's metrics with data in the last two weeks,
at most 500 (more matches leave the call-level message ``MaxMetricsExceeded``). A call holds at
most one Insights query (an Expression starting with ``SELECT``, case-insensitive); its Period is
the query's ``Period``, else the call's default period; it reads at most the last two weeks. Its
results, one per group, take the query's place among the results. Without GROUP BY its label is
the query's Label, else its Id; with GROUP BY, the group's values. Metric math does not see it:
an expression naming its Id is refused as naming an unknown Id, and ``METRICS()`` leaves it out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from services.ingest.domain._insights import InsightsQuery, insights_window, parse_insights, series_label
from services.ingest.domain._query import check_period, rounded_range
from services.ingest.domain._search import ACTIVE_WINDOW, MAX_RESULTS, SearchFilter, parse_search
from services.ingest.domain._statistics import Statistic, parse_statistic, statistic_value
from stackwatch import errors
from stackwatch.domain.metricmath import MetricRef, Result, SearchCall, Series
from stackwatch.domain.metrics import Dimension, Dimensions, StatisticSet, canonical_dimensions, series_id

#: Most metrics one SEARCH returns.
MAX_SEARCH_METRICS = MAX_RESULTS
#: The call-level message when a SEARCH matched more metrics than it may return.
TOO_MANY_METRICS = ("MaxMetricsExceeded", "Maximum number of allowed metrics exceeded")

#: A store bucket of one series: (start, count, sum, min, max[, (values, counts)]), values ascending
#: (see ``MetricStore.series_buckets``).
SeriesBucket = tuple[Any, ...]

#: A catalog row as the store lists it: (namespace, metric, dimensions, series).
MetricRow = tuple[str, str, Sequence[tuple[str, str]], int]


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
class Fetch:
    """One store query: these series' buckets over one range, period and unit.

    Attributes:
        start: first bucket start.
        end: exclusive end.
        period: bucket length.
        unit: unit filter, or ``None``.
        histograms: whether any of its statistics needs the values.
        series: the series ids, sorted, distinct.
        extremes: whether any of its statistics needs the minimum or maximum (when not, the
            store leaves them out and the buckets hold NaN in their place).
    """

    start: int
    end: int
    period: int
    unit: str | None
    histograms: bool
    series: tuple[int, ...]
    extremes: bool = True


def _needs_extremes(stat: Statistic) -> bool:
    """Whether ``stat`` reads a bucket's minimum or maximum (the percentile family clamps to them)."""
    return stat.needs_values or stat.kind in ("Minimum", "Maximum")


def _fetch_key(s: PlannedStat) -> tuple[int, int, int, str | None, bool, bool]:
    return s.start, s.end, s.period, s.unit, s.statistic.needs_values, _needs_extremes(s.statistic)


def fetches(stats: Sequence[PlannedStat], account: str) -> list[Fetch]:
    """The store queries these planned metrics need: one per distinct (range, period, unit, columns needed).

    Summing the values of every bucket costs the store several times what the statistic sets do,
    so the metrics whose statistic needs no values are fetched apart from those whose does; and
    the minimum and maximum (two more aggregates per row, a third of a rollup query's time) are
    read only for the statistics that use them.
    """
    groups: dict[tuple[int, int, int, str | None, bool, bool], set[int]] = {}
    for s in stats:
        if not s.empty:
            groups.setdefault(_fetch_key(s), set()).add(series_id(account, s.namespace, s.metric_name, s.dimensions))
    return [Fetch(start, end, period, unit, histograms, tuple(sorted(ids)), extremes)
            for (start, end, period, unit, histograms, extremes), ids in groups.items()]


def metric_series(stats: Sequence[PlannedStat], account: str,
                  fetched: Mapping[Fetch, Mapping[int, Sequence[SeriesBucket]]]) -> dict[str, Series]:
    """Each planned metric's series by its id: its statistic per bucket (buckets without a value left out).

    Args:
        stats: the planned metrics (a plan's MetricStat queries, or a SEARCH's matches).
        account: the caller's account (series ids are per account).
        fetched: each of :func:`fetches`' queries with the store's answer.
    """
    by_key = {(f.start, f.end, f.period, f.unit, f.histograms, f.extremes): rows for f, rows in fetched.items()}
    out = {}
    for s in stats:
        rows = () if s.empty else by_key.get(_fetch_key(s), {}).get(
            series_id(account, s.namespace, s.metric_name, s.dimensions), ())
        stamps, values = _statistic_per_bucket(s.statistic, rows)
        ref = MetricRef(s.namespace, s.metric_name, tuple(s.dimensions), s.statistic.name, s.period)
        out[s.id] = Series(stamps, values, s.metric_name, ref)
    return out


#: Where each basic statistic sits in a store bucket (Average is Sum / SampleCount).
_BASIC_COLUMN = {"SampleCount": 1, "Sum": 2, "Minimum": 3, "Maximum": 4}


def _statistic_per_bucket(stat: Statistic, rows: Sequence[SeriesBucket]) -> tuple[tuple[float, ...],
                                                                                  tuple[float, ...]]:
    """``(timestamps, values)`` of one series' buckets; buckets without a value are left out.

    The basic statistics are read straight from the rows (a day of minutes of 500 series is
    720,000 buckets); the rest go through :func:`~._statistics.statistic_value` per bucket.
    """
    column = _BASIC_COLUMN.get(stat.kind)
    if column is not None:
        return tuple([float(r[0]) for r in rows]), tuple([r[column] for r in rows])
    if stat.kind == "Average":
        kept = [r for r in rows if r[1] > 0]
        return tuple([float(r[0]) for r in kept]), tuple([r[2] / r[1] for r in kept])
    stamps, values = [], []
    for r in rows:
        hist = list(zip(*r[5], strict=True)) if len(r) > 5 and r[5][0] else None
        v = statistic_value(stat, StatisticSet(r[1], r[2], r[3], r[4]), hist)
        if v is not None:
            stamps.append(float(r[0]))
            values.append(v)
    return tuple(stamps), tuple(values)


def is_insights(expression: str | None) -> bool:
    """Whether an Expression is a Metrics Insights query (it starts with SELECT)."""
    return expression is not None and expression.lstrip()[:6].upper() == "SELECT"


@dataclass(frozen=True, slots=True)
class PlannedSearch:
    """One SEARCH call, checked.

    Attributes:
        call: metric math's call (query text, statistic, period).
        filter: the parsed query.
        start: first bucket start (rounded for the call's period).
        end: exclusive end.
        empty: the period is too fine for the start's age: no data.
        active_since: only metrics with data since this time (epoch seconds) match.
    """

    call: SearchCall
    filter: SearchFilter
    start: int
    end: int
    empty: bool
    active_since: int


def plan_searches(calls: Sequence[SearchCall], start: float, end: float, now: float) -> list[PlannedSearch]:
    """Check each SEARCH call's query, statistic and period, and plan its range.

    Raises:
        InvalidParameterValue: a bad query (see ``parse_search``), statistic or period.
    """
    out = []
    for call in calls:
        search = parse_search(call.query)
        parse_statistic(call.stat, "SEARCH statistic")
        check_period(call.period, "SEARCH period")
        first, last, empty = rounded_range(start, end, call.period, now)
        out.append(PlannedSearch(call, search, first, last, empty, int(now) - ACTIVE_WINDOW))
    return out


def search_stats(search: PlannedSearch, rows: Sequence[MetricRow], index: int) -> tuple[list[PlannedStat], bool]:
    """One planned metric per matched metric (at most 500), and whether more matched.

    Args:
        search: the planned call.
        rows: the store's matches, in its order (ask for one more than 500 to learn of more).
        index: the call's position among the plan's searches, to keep ids apart.
    """
    statistic = parse_statistic(search.call.stat)
    stats = [PlannedStat(f"search{index}_{series}", ns, name,
                         canonical_dimensions(tuple(Dimension(k, v) for k, v in dims)), search.call.period,
                         statistic, None, search.start, search.end, search.empty)
             for ns, name, dims, series in rows[:MAX_RESULTS]]
    return stats, len(rows) > MAX_RESULTS


def searched_series(searches: Sequence[PlannedSearch], stats: Sequence[Sequence[PlannedStat]],
                    series: Mapping[str, Series]) -> dict[SearchCall, list[Series]]:
    """Each SEARCH call's matches as metric math takes them: labels left empty for its default rule."""
    out: dict[SearchCall, list[Series]] = {}
    for search, planned in zip(searches, stats, strict=True):
        hits = []
        for s in planned:
            got = series[s.id]
            ref = MetricRef(s.namespace, s.metric_name, tuple(s.dimensions), search.call.stat, search.call.period)
            hits.append(Series(got.timestamps, got.values, "", ref))
        out[search.call] = hits
    return out


@dataclass(frozen=True, slots=True)
class PlannedInsights:
    """The call's Metrics Insights query, checked.

    Attributes:
        id: the query's Id.
        query: the parsed query.
        label: the query's Label, else its Id.
        start: first period start (rounded), never older than two weeks.
        end: exclusive end.
        period: seconds per datapoint.
        empty: the period is too fine for the start's age: no data.
    """

    id: str
    query: InsightsQuery
    label: str
    start: int
    end: int
    period: int
    empty: bool


def plan_insights(queries: Sequence[tuple[int, str, str, str | None, int | None]], start: float, end: float,
                  default_period: int, now: float) -> PlannedInsights | None:
    """Check the call's Insights queries: at most one, its text and its period.

    Args:
        queries: ``(position N, id, expression, label, period)`` of each Insights query.
        start: the request's StartTime.
        end: the request's EndTime.
        default_period: the period when the query gives none.
        now: the current time.

    Raises:
        InvalidParameterValue: more than one Insights query, a bad query text, a bad period.
    """
    if not queries:
        return None
    if len(queries) > 1:
        raise errors.InvalidParameterValue(
            "A GetMetricData request can include at most one Metrics Insights query; "
            f"MetricDataQueries.member.{queries[1][0]} is the second.")
    n, qid, text, label, period = queries[0]
    query = parse_insights(text)
    period = period or default_period
    check_period(period, f"MetricDataQueries.member.{n}.Period")
    first, last, empty = rounded_range(start, end, period, now)
    first, last = insights_window(first, last, int(now))
    return PlannedInsights(qid, query, label if label is not None else qid, first, last, period,
                           empty or first >= last)


def insights_results(plan: PlannedInsights,
                     groups: Sequence[tuple[Mapping[str, str], Sequence[tuple[int, float]]]]) -> list[Result]:
    """The Insights query's results, one per group, in the store's order."""
    return [Result(plan.id, series_label(plan.query, group, plan.label),
                   tuple(float(t) for t, _ in points), tuple(v for _, v in points))
            for group, points in groups]
