"""The ingest gRPC servicer: protobuf in, domain calls, store I/O, protobuf out.

Thin by design. Validation and statistics are the pure functions of ``services.ingest.domain``;
SQL lives in ``services.ingest.store``; group commit in ``services.ingest.commit``. Every RPC
starts by verifying who the call acts for (``stackwatch.rpc.PrincipalVerifier``: a principal token
or a signature over the call; a bare account id proves nothing), and every store call is scoped
to that principal's account.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

import grpc
from google.protobuf import timestamp_pb2
from google.protobuf.message import DecodeError

from services.ingest.commit import Committer
from services.ingest.domain import (
    CLOUDWATCH,
    MAX_SEARCH_METRICS,
    TOO_MANY_METRICS,
    Bucket,
    DataQuery,
    DatumColumns,
    Fetch,
    MetricDataRequest,
    MetricStatQuery,
    PlannedInsights,
    PlannedSearch,
    PlannedStat,
    RawDatum,
    RetentionSchedule,
    datapoint,
    evaluate_results,
    fetches,
    insights_results,
    metric_series,
    page,
    plan_metric_data,
    plan_query,
    read_tier,
    search_stats,
    searched_series,
    validate_list_request,
    validate_metric_identity,
    validate_request,
)
from services.ingest.forward import Forwarder
from services.ingest.store import MetricStore, SeriesBucket
from services.ingest.wal import Record
from stackwatch import errors
from stackwatch.clock import Clock
from stackwatch.domain.metricmath import Result, SearchCall, Series
from stackwatch.domain.metrics import DatumBatch, series_id
from stackwatch.proto.metrics.v1 import metrics_pb2, metrics_pb2_grpc
from stackwatch.rpc import PrincipalVerifier, servicer_errors
from stackwatch.tenancy import Tenant

LOG = logging.getLogger(__name__)

LIST_PAGE = 500
TWO_WEEKS = 14 * 86400
THREE_HOURS = 3 * 3600


def _raw(d: metrics_pb2.MetricDatum) -> RawDatum:
    has = d.HasField
    sv = d.statistic_values if has("statistic_values") else None
    ts = d.timestamp if has("timestamp") else None
    return RawDatum(
        metric_name=d.metric_name,
        dimensions=tuple([(x.name, x.value) for x in d.dimensions]),
        timestamp=None if ts is None else ts.seconds + ts.nanos / 1e9,
        value=d.value if has("value") else None,
        statistic_values=None if sv is None else (sv.sample_count, sv.sum, sv.minimum, sv.maximum),
        values=tuple(d.values),
        counts=tuple(d.counts),
        unit=d.unit if has("unit") else None,
        storage_resolution=d.storage_resolution if has("storage_resolution") else None,
    )


def _columns(c: metrics_pb2.MetricDataColumns) -> DatumColumns:
    return DatumColumns(
        list(c.metric_names), list(c.dimension_counts), list(c.dimension_names), list(c.dimension_values),
        list(c.timestamps), list(c.forms), list(c.values), list(c.sample_counts), list(c.sums),
        list(c.minimums), list(c.maximums), list(c.value_list_counts), list(c.value_list),
        list(c.count_list_counts), list(c.count_list), list(c.units), list(c.storage_resolutions))


def validate(request: metrics_pb2.PutMetricDataRequest, now: float) -> DatumBatch:
    """The request's datums, validated as of ``now`` (which also stamps datums without a timestamp)."""
    columns = _columns(request.metric_columns) if request.HasField("metric_columns") else None
    return validate_request(request.namespace, [_raw(d) for d in request.metric_data], columns, now)


def decode_record(record: Record) -> tuple[str, DatumBatch] | None:
    """A write-ahead log record back into what was acknowledged: validated again as of its receipt.

    Validation is a pure function of the request and the time, so this gives the datums the
    original call validated, timestamps included. None if it no longer validates (a record from
    a version with other rules), which the caller logs.
    """
    try:
        request = metrics_pb2.PutMetricDataRequest.FromString(record.payload)
        return record.account, validate(request, record.received)
    except (errors.ServiceError, DecodeError):
        return None


def _seconds(ts: timestamp_pb2.Timestamp) -> float:
    return float(ts.seconds + ts.nanos / 1e9)


def _position(position: list[Any]) -> tuple[str, str, int]:
    """A ListMetrics page position (namespace, metric, series) from a token's contents."""
    try:
        ns, name, series = position
        return str(ns), str(name), int(series)
    except (ValueError, TypeError):
        raise errors.InvalidNextToken("The service couldn't process your request because the "
                                      "NextToken is invalid.") from None


def _data_query(q: metrics_pb2.MetricDataQuery) -> DataQuery:
    stat = None
    if q.HasField("metric_stat"):
        ms, m = q.metric_stat, q.metric_stat.metric
        stat = MetricStatQuery(m.namespace, m.metric_name, tuple([(d.name, d.value) for d in m.dimensions]),
                               ms.period, ms.stat, ms.unit if ms.HasField("unit") else None)
    return DataQuery(q.id, stat, q.expression if q.HasField("expression") else None,
                     q.label if q.HasField("label") else None,
                     q.return_data if q.HasField("return_data") else True,
                     q.period if q.HasField("period") else None)


def _data_request(r: metrics_pb2.GetMetricDataRequest) -> MetricDataRequest:
    tz = r.label_options.timezone if r.label_options.HasField("timezone") else None
    return MetricDataRequest(
        tuple([_data_query(q) for q in r.metric_data_queries]), _seconds(r.start_time), _seconds(r.end_time),
        r.scan_by if r.HasField("scan_by") else None, r.max_datapoints if r.HasField("max_datapoints") else None, tz)


def _offset(position: list[Any], fingerprint: str) -> int:
    """A GetMetricData page offset from a token's contents, if the token belongs to this request."""
    try:
        fp, offset = position
        if fp == fingerprint and isinstance(offset, int) and offset >= 0:
            return offset
    except (ValueError, TypeError):
        pass
    raise errors.InvalidNextToken("The service couldn't process your request because the NextToken is invalid.")


class IngestServicer(metrics_pb2_grpc.IngestServiceServicer):
    """CloudWatch's metric API over gRPC."""

    def __init__(self, store: MetricStore, committer: Committer, clock: Clock,
                 principals: PrincipalVerifier, forwarder: Forwarder | None = None,
                 schedule: RetentionSchedule = CLOUDWATCH) -> None:
        self._store = store
        self._schedule = schedule
        self._forwarder = forwarder
        self._principals = principals
        self._committer = committer
        self._clock = clock

    @servicer_errors
    async def PutMetricData(self, request: metrics_pb2.PutMetricDataRequest,
                            context: grpc.aio.ServicerContext[Any, Any]) -> metrics_pb2.PutMetricDataResponse:
        """Validate every datum, then wait for the committer to make them durable."""
        principal = await self._principals.require(context, request, "PutMetricData")
        now = self._clock.now()
        batch = validate(request, now)
        payload = request.SerializeToString() if self._committer.keeps_requests else b""
        await self._committer.submit(principal.account_id, batch, now, payload)
        if self._forwarder is not None:  # durable now: watched datums go to the alarm service (never blocks)
            self._forwarder.offer(principal.account_id, batch, self._clock.now())
        return metrics_pb2.PutMetricDataResponse(accepted=batch.size)

    @servicer_errors
    async def GetMetricStatistics(self, request: metrics_pb2.GetMetricStatisticsRequest,
                                  context: grpc.aio.ServicerContext[Any, Any]
                                  ) -> metrics_pb2.GetMetricStatisticsResponse:
        """Aggregate one metric into periods from the coarsest tier that answers them (``read_tier``)."""
        principal = await self._principals.require(context, request, "GetMetricStatistics")
        await self._committer.visible(principal.account_id)
        ns, name, dims = validate_metric_identity(
            request.namespace, request.metric_name, [(d.name, d.value) for d in request.dimensions])
        plan = plan_query(
            _seconds(request.start_time), _seconds(request.end_time), request.period, self._clock.now(),
            statistics=list(request.statistics), extended=list(request.extended_statistics),
            unit=request.unit if request.HasField("unit") else None)
        response = metrics_pb2.GetMetricStatisticsResponse(label=name)
        if plan.empty:
            return response
        where = (principal.account_id, series_id(principal.account_id, ns, name, dims), plan.start, plan.end,
                 plan.period, plan.unit)
        tier = read_tier(plan.start, plan.end, plan.period, self._clock.now(), self._schedule)
        if plan.percentiles:  # one query answers both; the histograms only matter for percentiles
            rows, hist = await self._store.statistics_and_histograms(*where, tier=tier)
        else:
            rows, hist = await self._store.statistics(*where, tier=tier), {}
        add = response.datapoints.add
        for b, u, count, total, lo, hi in rows:
            _fill_datapoint(add(), datapoint(plan, Bucket(b, u, count, total, lo, hi), hist.get((b, u))))
        return response

    @servicer_errors
    async def ListMetrics(self, request: metrics_pb2.ListMetricsRequest,
                          context: grpc.aio.ServicerContext[Any, Any]) -> metrics_pb2.ListMetricsResponse:
        """One page (500) of the account's metrics matching the filters."""
        principal = await self._principals.require(context, request, "ListMetrics")
        account = principal.account_id
        await self._committer.visible(account)
        namespace = request.namespace if request.HasField("namespace") else None
        metric_name = request.metric_name if request.HasField("metric_name") else None
        recently_active = request.recently_active if request.HasField("recently_active") else None
        filters = validate_list_request(
            namespace, metric_name,
            [(f.name, f.value if f.HasField("value") else None) for f in request.dimensions], recently_active)
        # Valid RecentlyActive is PT3H: metrics with data in the last three hours, else two weeks.
        since = int(self._clock.now()) - (THREE_HOURS if recently_active is not None else TWO_WEEKS)
        tenant = Tenant.of(principal)
        after = _position(tenant.read_page_token(request.next_token)) if request.HasField("next_token") else None
        rows = await self._store.list_metrics(
            account, namespace=namespace, metric_name=metric_name, dimension_filters=filters,
            active_since=since, after=after, limit=LIST_PAGE + 1)
        response = metrics_pb2.ListMetricsResponse()
        for ns, name, dims, _series in rows[:LIST_PAGE]:
            response.metrics.append(metrics_pb2.Metric(
                namespace=ns, metric_name=name,
                dimensions=[metrics_pb2.Dimension(name=k, value=v) for k, v in dims]))
        if len(rows) > LIST_PAGE:
            last = rows[LIST_PAGE - 1]
            response.next_token = tenant.page_token([last[0], last[1], str(last[3])])
        return response

    @servicer_errors
    async def GetMetricData(self, request: metrics_pb2.GetMetricDataRequest,
                            context: grpc.aio.ServicerContext[Any, Any]) -> metrics_pb2.GetMetricDataResponse:
        """Many metrics, expressions, SEARCH and Insights over one range, paged by datapoints.

        The plan is checked before any I/O; then the MetricStat queries (one store query per
        distinct range, period and unit, however many metrics), the SEARCH calls and the Insights
        query are read concurrently, and metric math evaluates the lot.
        """
        principal = await self._principals.require(context, request, "GetMetricData")
        account, tenant = principal.account_id, Tenant.of(principal)
        await self._committer.visible(account)
        plan = plan_metric_data(_data_request(request), self._clock.now())
        offset = _offset(tenant.read_page_token(request.next_token), plan.fingerprint) \
            if request.HasField("next_token") else 0
        series, (searched, messages), insights = await asyncio.gather(
            self._series(account, plan.stats), self._searched(account, plan.searches),
            self._insights(account, plan.insights))
        results = evaluate_results(plan, series, searched, insights, self._clock.now())
        results_page, following = page(results, plan.scan_by, offset, plan.page_size)
        response = metrics_pb2.GetMetricDataResponse()
        for r in results_page:
            out = response.metric_data_results.add(id=r.id, label=r.label, status_code=r.status)
            out.timestamps.extend(r.timestamps)
            out.values.extend(r.values)
            for code, value in r.messages:
                out.messages.add(code=code, value=value)
        for code, value in messages:
            response.messages.add(code=code, value=value)
        if following is not None:
            response.next_token = tenant.page_token([plan.fingerprint, following])
        return response

    async def _series(self, account: str, stats: Sequence[PlannedStat]) -> dict[str, Series]:
        """The planned metrics' series by id: their store queries run concurrently."""
        wanted = fetches(stats, account)
        now = self._clock.now()
        answers = await asyncio.gather(*[
            self._store.series_buckets(account, f.series, f.start, f.end, f.period, f.unit, histograms=f.histograms,
                                       extremes=f.extremes,
                                       tier=read_tier(f.start, f.end, f.period, now, self._schedule))
            for f in wanted])
        fetched: dict[Fetch, dict[int, list[SeriesBucket]]] = dict(zip(wanted, answers, strict=True))
        return metric_series(stats, account, fetched)

    async def _searched(self, account: str, searches: Sequence[PlannedSearch]
                        ) -> tuple[dict[SearchCall, list[Series]], list[tuple[str, str]]]:
        """Each SEARCH call's matches with their series, and the call-level messages.

        One store query per call finds its matches; the matches of every call are then fetched
        together, as MetricStat queries are.
        """
        if not searches:
            return {}, []
        found = await asyncio.gather(*[
            self._store.search_metrics(account, s.filter, s.active_since, limit=MAX_SEARCH_METRICS + 1)
            for s in searches])
        planned, more = zip(*[search_stats(s, rows, i) for i, (s, rows) in enumerate(zip(searches, found,
                                                                                          strict=True))],
                            strict=True)
        series = await self._series(account, [s for stats in planned for s in stats])
        return searched_series(searches, planned, series), [TOO_MANY_METRICS] if any(more) else []

    async def _insights(self, account: str, insights: PlannedInsights | None) -> list[Result]:
        """The Insights query's results, one per group (none without the query)."""
        if insights is None or insights.empty:
            return []
        groups = await self._store.insights(account, insights.query, insights.start, insights.end, insights.period)
        return insights_results(insights, groups)


_DATAPOINT_FIELDS = (("SampleCount", "sample_count"), ("Average", "average"), ("Sum", "sum"),
                     ("Minimum", "minimum"), ("Maximum", "maximum"))


def _fill_datapoint(out: metrics_pb2.Datapoint, dp: dict[str, Any]) -> None:
    """Write the domain's datapoint into a message added in place (``repeated.add()``: no copy)."""
    out.unit = dp.get("Unit", "None")
    out.timestamp.seconds = int(dp["Timestamp"])
    for key, attr in _DATAPOINT_FIELDS:
        if key in dp:
            setattr(out, attr, dp[key])
    extended = dp.get("ExtendedStatistics")
    if extended:
        into = out.extended_statistics  # item by item: the map's update() is the slow generic one
        for name, value in extended.items():
            into[name] = value
