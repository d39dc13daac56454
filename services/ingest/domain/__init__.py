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
    ListMetrics          validate_list_request(ns, name, filters, recently_active) -> filters (_identity)
    percentiles          parse_percentile(name), percentile(histogram, q)                (_statistics)
    GetMetricData        parse_search(text) -> SearchFilter; matches(f, ns, name, dims)   (_search)
                         parse_insights(text) -> InsightsQuery; selects, group_of,
                         series_label, insights_window                                   (_insights)

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
from services.ingest.domain._query import Bucket, QueryPlan, datapoint, plan_query
from services.ingest.domain._search import SearchFilter, matches, parse_search, word_matches
from services.ingest.domain._statistics import parse_percentile, percentile, percentiles
from services.ingest.domain._validate import RawDatum, validate_put

__all__ = [
    "Bucket",
    "Comparison",
    "Condition",
    "Conjunction",
    "Disjunction",
    "Function",
    "InsightsQuery",
    "Negation",
    "SearchFilter",
    "group_of",
    "holds",
    "insights_window",
    "like_matches",
    "matches",
    "parse_insights",
    "parse_search",
    "selects",
    "series_label",
    "word_matches",
    "DatumColumns",
    "QueryPlan",
    "RawDatum",
    "columns_to_rows",
    "datapoint",
    "parse_percentile",
    "percentile",
    "percentiles",
    "plan_query",
    "validate_list_filters",
    "validate_list_request",
    "validate_metric_identity",
    "validate_put",
    "validate_request",
]
