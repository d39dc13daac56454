"""Run the alarm service: its store, registry, scheduler and action dispatcher, and its gRPC services.

Two gRPC services share the port: AlarmService (with the internal ObserveDatapoints and
WatchedMetrics RPCs ingest calls, :mod:`services.alarm.stream`) and NotificationService (SNS topics
for alarm actions, :mod:`services.alarm.notifications`). Due actions wait in the outbox until the
:class:`~services.alarm.delivery.Dispatcher` has delivered them; pending ones left by a previous
run are delivered at start. With replicas (``replica_id`` set), each evaluates and delivers for
the alarms it owns (:mod:`services.alarm.ownership`).

The scheduler reads datapoints from ingest over gRPC, acting for each alarm's account with a
principal token it signs itself with the internal key (the key every service shares; ingest
verifies the token as it verifies the gateway's). The token names the alarm's account and the
user ``stackwatch-alarm``; it is issued per call and lives a few minutes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any

import grpc

from services.alarm import messages
from services.alarm.composites import Composites
from services.alarm.dashboard_store import DashboardStore
from services.alarm.dashboards import Dashboards
from services.alarm.delivery import ActionRouter, Dispatcher, HttpPoster, RetryPolicy
from services.alarm.domain import Datapoint
from services.alarm.domain.model import from_epoch
from services.alarm.egress import parse_networks
from services.alarm.notifications import NotificationServicer
from services.alarm.ownership import Membership
from services.alarm.records import AlarmConfig
from services.alarm.registry import AlarmRegistry, WatchedStore
from services.alarm.scheduler import Scheduler
from services.alarm.servicer import query_message
from services.alarm.signing import SigningKey
from services.alarm.stream import StreamingAlarmServicer
from services.alarm.topics import NotificationStore
from services.alarm.windows import Backfilled
from services.alarm.writer import AlarmWriter
from stackwatch import retry
from stackwatch.clock import Clock, SystemClock
from stackwatch.config import AlarmSettings
from stackwatch.domain.metrics import StatisticSet
from stackwatch.proto.alarm.v1 import alarm_pb2, alarm_pb2_grpc, notifications_pb2, notifications_pb2_grpc
from stackwatch.proto.auth.v1 import auth_pb2, auth_pb2_grpc
from stackwatch.proto.autoscale.v1 import autoscale_pb2_grpc
from stackwatch.proto.metrics.v1 import metrics_pb2, metrics_pb2_grpc
from stackwatch.rpc import (
    PrincipalVerifier,
    ServerHandle,
    TokenSigner,
    error_from_rpc,
    open_channel,
    principal_metadata,
    serve,
)
from stackwatch.store import AsyncEngine, open_engine

LOG = logging.getLogger(__name__)
SERVICE_NAME = alarm_pb2.DESCRIPTOR.services_by_name["AlarmService"].full_name
NOTIFICATION_SERVICE = notifications_pb2.DESCRIPTOR.services_by_name["NotificationService"].full_name
#: The user named in the principal tokens the scheduler signs.
EVALUATOR_USER = "stackwatch-alarm"
#: The scheduler of each running service by its port (tests and benchmarks read its counters).
SCHEDULERS: dict[int, Scheduler] = {}
#: Most periods one GetMetricStatistics call may ask for.
MAX_DATAPOINTS = 1440


class IngestReader:
    """The scheduler's :data:`~services.alarm.scheduler.Fetch`: GetMetricStatistics or GetMetricData on ingest.

    A single-metric alarm reads its statistic with GetMetricStatistics; a metric math alarm sends
    its ``Metrics`` to GetMetricData (the engine of :mod:`stackwatch.domain.metricmath` runs there)
    and evaluates the one series returned, whose points carry no sample count.

    Args:
        stub: the ingest service's stub.
        tokens: signs a principal token for the alarm's account on each call.
        timeout: deadline of each call (also the retry deadline: the read is idempotent).
    """

    def __init__(self, stub: metrics_pb2_grpc.IngestServiceStub, tokens: TokenSigner, timeout: float) -> None:
        self._stub = stub
        self._tokens = tokens
        self._timeout = timeout
        self._backfills: dict[tuple[str, bytes, datetime, datetime], asyncio.Future[Sequence[Backfilled]]] = {}

    async def __call__(self, account: str, config: AlarmConfig, start: datetime, end: datetime) -> Sequence[Datapoint]:
        """:meth:`fetch`."""
        return await self.fetch(account, config, start, end)

    async def fetch(self, account: str, config: AlarmConfig, start: datetime, end: datetime) -> Sequence[Datapoint]:
        """One datapoint per period of ``[start, end)`` that has data, by the alarm's kind."""
        if config.metrics:
            return await self._math(account, config, start, end)
        return await self._statistics(account, config, start, end)

    async def _math(self, account: str, config: AlarmConfig, start: datetime, end: datetime) -> Sequence[Datapoint]:
        """The returned series of the alarm's ``Metrics`` (GetMetricData, every page)."""
        request = metrics_pb2.GetMetricDataRequest(metric_data_queries=[query_message(q) for q in config.metrics])
        request.start_time.FromSeconds(int(start.timestamp()))
        request.end_time.FromSeconds(int(end.timestamp()))
        token = self._tokens.issue(auth_pb2.Principal(account_id=account, user=EVALUATOR_USER))
        points: dict[float, Datapoint] = {}
        while True:
            response: metrics_pb2.GetMetricDataResponse = await self._ask(self._stub.GetMetricData, request, token)
            for result in response.metric_data_results[:1]:  # exactly one query returns data
                for t, v in zip(result.timestamps, result.values, strict=False):
                    if t not in points and start.timestamp() <= t < end.timestamp():
                        points[t] = Datapoint(from_epoch(t), float(v))
            if not response.HasField("next_token"):
                return list(points.values())
            request.next_token = response.next_token

    async def _ask(self, method: Callable[..., Awaitable[Any]], request: Any, token: str) -> Any:
        """One idempotent read of ingest as the token's principal, retried within the call's deadline."""
        async def once() -> Any:
            try:
                return await method(request, timeout=self._timeout, metadata=principal_metadata(token))
            except grpc.aio.AioRpcError as e:
                raise error_from_rpc(e) from None

        return await retry.idempotent(once, deadline=self._timeout)

    def _request(self, config: AlarmConfig, statistics: list[str]) -> metrics_pb2.GetMetricStatisticsRequest:
        request = metrics_pb2.GetMetricStatisticsRequest(
            namespace=config.namespace, metric_name=config.metric_name,
            dimensions=[metrics_pb2.Dimension(name=n, value=v) for n, v in config.dimensions],
            period=config.period, statistics=statistics,
            extended_statistics=[config.extended_statistic] if config.extended_statistic else [])
        if config.unit is not None:
            request.unit = config.unit
        return request

    async def _datapoints(self, account: str, request: metrics_pb2.GetMetricStatisticsRequest, period: int,
                          start: datetime, end: datetime) -> list[metrics_pb2.Datapoint]:
        token = self._tokens.issue(auth_pb2.Principal(account_id=account, user=EVALUATOR_USER))
        datapoints: list[metrics_pb2.Datapoint] = []
        first, last = int(start.timestamp()), int(end.timestamp())
        step = MAX_DATAPOINTS * period  # GetMetricStatistics answers at most 1,440 periods a call
        for chunk in range(first, last, step):
            request.start_time.FromSeconds(chunk)
            request.end_time.FromSeconds(min(chunk + step, last))
            answer: metrics_pb2.GetMetricStatisticsResponse = await self._ask(
                self._stub.GetMetricStatistics, request, token)
            datapoints.extend(answer.datapoints)
        return datapoints

    async def _statistics(self, account: str, config: AlarmConfig, start: datetime,
                          end: datetime) -> Sequence[Datapoint]:
        """One datapoint per period of ``[start, end)`` that has data (the first unit's, if several)."""
        request = self._request(config, ["SampleCount"] + ([config.statistic] if config.statistic else []))
        datapoints = await self._datapoints(account, request, config.period, start, end)
        points: dict[int, Datapoint] = {}
        for dp in datapoints:
            if config.statistic:
                value = getattr(dp, _FIELDS[config.statistic]) if dp.HasField(_FIELDS[config.statistic]) else None
            else:
                value = dp.extended_statistics.get(config.extended_statistic or "")
            if value is None or dp.timestamp.seconds in points:
                continue
            points[dp.timestamp.seconds] = Datapoint(
                from_epoch(dp.timestamp.seconds), float(value),
                dp.sample_count if dp.HasField("sample_count") else None)
        return list(points.values())

    async def backfill(self, account: str, config: AlarmConfig, start: datetime, end: datetime) -> Sequence[Backfilled]:
        """Every period and unit of ``[start, end)`` with its statistic set (and percentile): a window's fill.

        Alarms on one metric with one period (and percentile) ask the same question when they
        are filled together (at start, after a reconnect): one read answers all of them.
        """
        request = self._request(config, ["SampleCount", "Sum", "Minimum", "Maximum"])
        key = (account, request.SerializeToString(deterministic=True), start, end)
        shared = self._backfills.get(key)
        if shared is None:
            shared = self._backfills[key] = asyncio.ensure_future(self._backfill(account, config, request, start, end))
            shared.add_done_callback(lambda _: self._backfills.pop(key, None))
        return await asyncio.shield(shared)

    async def _backfill(self, account: str, config: AlarmConfig, request: metrics_pb2.GetMetricStatisticsRequest,
                        start: datetime, end: datetime) -> Sequence[Backfilled]:
        out = []
        for dp in await self._datapoints(account, request, config.period, start, end):
            percentile = None
            if config.extended_statistic and config.extended_statistic in dp.extended_statistics:
                percentile = float(dp.extended_statistics[config.extended_statistic])
            out.append(Backfilled(dp.timestamp.seconds, dp.unit or "None",
                                  StatisticSet(dp.sample_count, dp.sum, dp.minimum, dp.maximum), percentile))
        return out

_FIELDS = {"SampleCount": "sample_count", "Average": "average", "Sum": "sum", "Minimum": "minimum",
           "Maximum": "maximum"}


@contextlib.asynccontextmanager
async def running(settings: AlarmSettings, internal_key: bytes,
                  clock: Clock | None = None) -> AsyncIterator[ServerHandle]:
    """Run the service for the duration of the context; yields the server handle (with its port)."""
    clock = clock or SystemClock()
    tokens = TokenSigner(internal_key, clock)  # refuses a bad key before anything touches the store
    engine = AsyncEngine(open_engine(settings.store_url), threads=settings.store_threads)
    registry = AlarmRegistry()
    store = WatchedStore(engine, settings.database, registry)
    await store.ensure_schema()
    topics = NotificationStore(engine, settings.database)
    await topics.ensure_schema()
    dashboard_store = DashboardStore(engine, settings.database)
    await dashboard_store.ensure_schema()
    key = SigningKey.load_or_create(settings.signing_key_file)
    links = messages.Links(settings.public_url.rstrip("/"), key.certificate_name)
    policy = RetryPolicy(settings.delivery_first_wait, settings.delivery_max_wait, settings.delivery_deadline)
    post = HttpPoster(settings.delivery_timeout, parse_networks(settings.delivery_denied_networks))
    auth_channel = open_channel(settings.auth_address)
    ingest_channel = open_channel(settings.ingest_address)
    autoscale_channel = open_channel(settings.autoscale_address)
    writer = AlarmWriter(store, settings.region, topics)
    router = ActionRouter(topics, post, autoscale_pb2_grpc.AutoscaleServiceStub(autoscale_channel), tokens, key,
                          links, settings.region, policy, settings.rpc_timeout)
    reader = IngestReader(metrics_pb2_grpc.IngestServiceStub(ingest_channel), tokens, settings.rpc_timeout)
    membership = Membership(engine, settings.database, settings.replica_id, clock, settings.heartbeat_interval)
    await membership.start()  # before the registry loads: it keeps only the alarms this replica owns
    registry.owns = membership.owns
    dispatcher = Dispatcher(topics, store, router, clock, owns=membership.owns)
    writer.wake = dispatcher.wake
    scheduler = Scheduler(writer, reader, clock, settings.evaluation_interval, registry=registry,
                          backfill=reader.backfill, grace=settings.evaluation_grace)
    LOG.info("alarm: %d alarms loaded", await scheduler.start())
    auth_stub = auth_pb2_grpc.AuthServiceStub(auth_channel)
    principals = PrincipalVerifier(tokens, auth_stub, SERVICE_NAME)
    composites = Composites(writer, clock)
    writer.after_change = composites.on_change
    dashboards = Dashboards(dashboard_store, clock, settings.dashboard_page_size)
    servicer = StreamingAlarmServicer(writer, scheduler, clock, principals, settings.region, composites, dashboards)
    notifications = NotificationServicer(topics, PrincipalVerifier(tokens, auth_stub, NOTIFICATION_SERVICE), clock,
                                         settings.region, key, links, post, policy)

    def register(server: grpc.aio.Server) -> None:
        alarm_pb2_grpc.add_AlarmServiceServicer_to_server(servicer, server)
        notifications_pb2_grpc.add_NotificationServiceServicer_to_server(notifications, server)

    # ingest holds its datapoint stream open for good: an aged-out connection would refill every window
    handle = await serve(settings.bind, register, [SERVICE_NAME, NOTIFICATION_SERVICE], aged_connections=False)
    evaluator = asyncio.create_task(scheduler.run(settings.ownership_interval, settings.reload_interval),
                                    name="alarm-scheduler")
    delivering = asyncio.create_task(dispatcher.run(), name="alarm-actions")
    SCHEDULERS[handle.port] = scheduler
    try:
        yield handle
    finally:
        SCHEDULERS.pop(handle.port, None)
        await servicer.close()
        await membership.stop()
        for task in (evaluator, delivering):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await handle.stop(grace=5.0)
        await composites.close()
        await notifications.close()
        await post.close()
        p50, p99 = scheduler.lags()
        LOG.info("alarm stopped: %d evaluations (%d streamed), %d backfills, %d datums observed, "
                 "lag p50 %.3f s p99 %.3f s; %d actions delivered, %d failed", scheduler.evaluations,
                 scheduler.streamed_evaluations, scheduler.backfills, scheduler.observed, p50, p99,
                 dispatcher.delivered, dispatcher.failed)
        engine.close()
        await auth_channel.close()
        await ingest_channel.close()
        await autoscale_channel.close()
