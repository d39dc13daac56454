"""The ingest service's pure core: CloudWatch's metric rules as functions over plain values.

No I/O, no clock, no protobuf: the servicer converts requests to the values below, passes the
time in, and does the store calls these functions plan. Every rule raises the AWS error from
:mod:`stackwatch.errors` that CloudWatch returns, naming the parameter query-style.

::

    PutMetricData        RawDatum* --validate_put(namespace, raws, now)--> [Datum]     (_validate)
                         rows and/or DatumColumns --validate_request--> DatumBatch     (_columns)
    GetMetricStatistics  validate_metric_identity(ns, name, dims)  -> canonical identity (_identity)
                         plan_query(start, end, period, now, ...)  -> QueryPlan          (_query)
                         datapoint(plan, Bucket, histogram)        -> Datapoint dict     (_query)
    GetMetricData        plan_metric_data(request, now)            -> MetricDataPlan     (_metric_data)
                         fetches(plan.stats, account) -> [Fetch]; metric_series(...) -> {id: Series}
                         search_stats / searched_series, insights_results          (_metric_sources)
                         evaluate_results(plan, series, searched, insights, now) -> [Result]
                         page(results, ...) -> one page
    ListMetrics          validate_list_request(ns, name, filters, recently_active) -> filters (_identity)
    statistics           parse_percentile(name), percentile(histogram, q),               (_statistics)
                         parse_statistic(name), statistic_value(stat, set, histogram)
    retention            RetentionSchedule.parse(text); read_tier(start, end, period, now)  (_tiers)
                         -> the table a query reads; expired(partitions, now, retention)
    search               parse_search(text) -> SearchFilter; matches(f, ns, name, dims)   (_search)
    insights             parse_insights(text) -> InsightsQuery; selects, group_of,       (_insights)
                         series_label, insights_window

The private modules hold the implementation; the names here are the public surface.
"""

from services.ingest.domain._columns import DatumColumns, columns_to_rows, validate_request
from services.ingest.domain._identity import validate_list_filters, validate_list_request, validate_metric_identity
from services.ingest.domain._insights import (
    Comparison,
    Condition,
    Conjunction,
    Disjunction,
    Function,
    InsightsQuery,
    Negation,
    group_of,
    holds,
    insights_window,
    like_matches,
    parse_insights,
    selects,
    series_label,
)
from services.ingest.domain._metric_data import (
    DataQuery,
    MetricDataPlan,
    MetricDataRequest,
    MetricStatQuery,
    evaluate_results,
    page,
    plan_metric_data,
)
from services.ingest.domain._metric_sources import (
    MAX_SEARCH_METRICS,
    TOO_MANY_METRICS,
    Fetch,
    PlannedInsights,
    PlannedSearch,
    PlannedStat,
    fetches,
    insights_results,
    metric_series,
    search_stats,
    searched_series,
)
from services.ingest.domain._query import Bucket, QueryPlan, datapoint, plan_query
from services.ingest.domain._search import SearchFilter, matches, parse_search, word_matches
from services.ingest.domain._statistics import (
    Statistic,
    parse_percentile,
    parse_statistic,
    percentile,
    percentiles,
    statistic_value,
)
from services.ingest.domain._tiers import CLOUDWATCH, RetentionSchedule, expired, partition_end, read_tier
from services.ingest.domain._validate import RawDatum, validate_put

__all__ = [
    "CLOUDWATCH",
    "MAX_SEARCH_METRICS",
    "TOO_MANY_METRICS",
    "Bucket",
    "Comparison",
    "Condition",
    "Conjunction",
    "DataQuery",
    "DatumColumns",
    "Disjunction",
    "Fetch",
    "Function",
    "InsightsQuery",
    "MetricDataPlan",
    "MetricDataRequest",
    "MetricStatQuery",
    "Negation",
    "PlannedInsights",
    "PlannedSearch",
    "PlannedStat",
    "QueryPlan",
    "RawDatum",
    "RetentionSchedule",
    "SearchFilter",
    "Statistic",
    "columns_to_rows",
    "datapoint",
    "evaluate_results",
    "expired",
    "fetches",
    "group_of",
    "holds",
    "insights_results",
    "insights_window",
    "like_matches",
    "matches",
    "metric_series",
    "page",
    "parse_insights",
    "parse_percentile",
    "parse_search",
    "parse_statistic",
    "partition_end",
    "percentile",
    "percentiles",
    "plan_metric_data",
    "plan_query",
    "read_tier",
    "search_stats",
    "searched_series",
    "selects",
    "series_label",
    "statistic_value",
    "validate_list_filters",
    "validate_list_request",
    "validate_metric_identity",
    "validate_put",
    "validate_request",
    "word_matches",
]
