"""The alarm service's two internal RPCs: ingest's datapoint stream and the watched-metric long poll.

They live beside the API servicer (:class:`StreamingAlarmServicer` extends
:class:`~services.alarm.servicer.AlarmServicer` with them) because they are not CloudWatch's API:
only ingest calls them, with a service principal token (:func:`services.ingest.forward.is_service`);
any other caller, tenants included, gets ``AccessDenied``.

``ObserveDatapoints`` is a client stream that lives as long as the ingest process: each message is
decoded into :class:`~services.alarm.scheduler.Observed` datums per metric and handed to
:meth:`Scheduler.observe` synchronously (no await per message: the windows are in memory). The
scheduler learns when a stream opens and closes, which decides whether windows or fetches feed
the evaluations. ``WatchedMetrics`` answers the registry's watched metric keys, waiting for a
change when the caller already holds the current version, and records the version each ingest
instance holds (:meth:`AlarmRegistry.acknowledge`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

from services.alarm.composites import Composites
from services.alarm.dashboards import Dashboards
from services.alarm.registry import AlarmRegistry, MetricKey
from services.alarm.scheduler import Observed, Scheduler
from services.alarm.servicer import AlarmServicer, Context
from services.alarm.writer import AlarmWriter
from services.ingest.forward import is_service
from stackwatch import errors
from stackwatch.clock import Clock
from stackwatch.domain.metrics import StatisticSet
from stackwatch.proto.alarm.v1 import alarm_pb2
from stackwatch.proto.metrics.v1 import metrics_pb2
from stackwatch.rpc import PrincipalVerifier, servicer_errors

LOG = logging.getLogger(__name__)
#: Longest long poll a caller may ask for, seconds.
MAX_WAIT = 60.0


def _key(metric: alarm_pb2.WatchedMetric) -> MetricKey:
    return (metric.account_id, metric.namespace, metric.metric_name,
            tuple(sorted((d.name, d.value) for d in metric.dimensions)))


def _single_account(request: alarm_pb2.ObserveDatapointsRequest, now: float) -> dict[MetricKey, list[Observed]]:
    """The single-account form (fields 1-3): MetricDatum values, taken as acknowledged now."""
    out: dict[MetricKey, list[Observed]] = {}
    for d in request.metric_data:
        key = (request.account_id, request.namespace, d.metric_name,
               tuple(sorted((x.name, x.value) for x in d.dimensions)))
        ts = d.timestamp.seconds + d.timestamp.nanos / 1e9
        unit = d.unit if d.HasField("unit") else "None"
        if d.HasField("value"):
            obs = Observed(ts, unit, StatisticSet(1.0, d.value, d.value, d.value), (d.value,), (1.0,), now)
        elif d.HasField("statistic_values"):
            sv = d.statistic_values
            obs = Observed(ts, unit, StatisticSet(sv.sample_count, sv.sum, sv.minimum, sv.maximum), (), (), now)
        elif d.values:
            counts = list(d.counts) or [1.0] * len(d.values)
            n = sum(counts)
            obs = Observed(ts, unit, StatisticSet(n, sum(v * c for v, c in zip(d.values, counts, strict=True)),
                                                  min(d.values), max(d.values)), tuple(d.values), tuple(counts), now)
        else:
            continue
        out.setdefault(key, []).append(obs)
    return out


class StreamingAlarmServicer(AlarmServicer):
    """The API servicer plus ObserveDatapoints and WatchedMetrics (see the module docstring)."""

    def __init__(self, writer: AlarmWriter, scheduler: Scheduler, clock: Clock, principals: PrincipalVerifier,
                 region: str, composites: Composites | None = None, dashboards: Dashboards | None = None) -> None:
        super().__init__(writer, scheduler, clock, principals, region, composites, dashboards)
        self._streaming = scheduler
        self._registry: AlarmRegistry = scheduler.registry
        self._verifier = principals
        self._now = clock
        self.unwatched = 0
        self._closing = asyncio.Event()

    async def close(self) -> None:
        """End the open streams and long polls (before the server stops: they would hold it for its grace)."""
        self._closing.set()

    async def _until_closed(self, requests: AsyncIterator[Any]) -> AsyncIterator[Any]:
        """The stream's requests until it ends or :meth:`close` is called."""
        closing = asyncio.ensure_future(self._closing.wait())
        try:
            while True:
                step = asyncio.ensure_future(anext(requests))
                await asyncio.wait({step, closing}, return_when=asyncio.FIRST_COMPLETED)
                if not step.done():
                    step.cancel()
                    return
                try:
                    request = step.result()
                except StopAsyncIteration:
                    return
                yield request
        finally:
            closing.cancel()

    async def _service(self, context: Context, request: Any, method: str) -> None:
        principal = await self._verifier.require(context, request, method)
        if not is_service(principal):
            raise errors.AccessDenied(f"{method} is internal to StackWatch.")

    @servicer_errors
    async def ObserveDatapoints(self, request_iterator: AsyncIterator[alarm_pb2.ObserveDatapointsRequest],
                                context: Context) -> alarm_pb2.ObserveDatapointsResponse:
        """Feed the streamed datums to the windows of the alarms that watch them."""
        await self._service(context, alarm_pb2.ObserveDatapointsRequest(), "ObserveDatapoints")
        sender = ""
        received = unwatched = dropped = 0
        opened = False
        try:
            async for request in self._until_closed(aiter(request_iterator)):
                if not opened:
                    sender = request.sender or context.peer()
                    self._streaming.stream_opened(sender)
                    opened = True
                    dropped = request.dropped
                elif request.dropped > dropped:  # ingest lost datums: the windows are filled again
                    LOG.warning("ingest %s dropped %d datums; refilling the alarm windows", sender,
                                request.dropped - dropped)
                    dropped = request.dropped
                    self._streaming.refill()
                for series in request.series:
                    datums = [Observed(d.timestamp, d.unit, StatisticSet(d.sample_count, d.sum, d.minimum, d.maximum),
                                       d.values, d.counts, d.acknowledged_at) for d in series.datums]
                    received += len(datums)
                    if not self._streaming.observe(_key(series.metric), datums):
                        unwatched += len(datums)
                if request.metric_data:
                    for key, datums in _single_account(request, self._now.now()).items():
                        received += len(datums)
                        if not self._streaming.observe(key, datums):
                            unwatched += len(datums)
        finally:
            if opened:
                self._streaming.stream_closed(sender)
            self.unwatched += unwatched
        return alarm_pb2.ObserveDatapointsResponse(received=received, unwatched=unwatched)

    @servicer_errors
    async def WatchedMetrics(self, request: alarm_pb2.WatchedMetricsRequest,
                             context: Context) -> alarm_pb2.WatchedMetricsResponse:
        """The watched metric keys when the caller's version is not current; else wait for a change."""
        await self._service(context, request, "WatchedMetrics")
        registry = self._registry
        if request.instance:
            registry.acknowledge(request.instance, request.known_version)
        changed = asyncio.ensure_future(
            registry.wait_for_change(request.known_version, min(max(request.wait_seconds, 0.0), MAX_WAIT)))
        closing = asyncio.ensure_future(self._closing.wait())
        await asyncio.wait({changed, closing}, return_when=asyncio.FIRST_COMPLETED)
        for waiter in (changed, closing):
            waiter.cancel()
        if request.instance:  # still polling: keep counting it as live
            registry.acknowledge(request.instance, request.known_version)
        response = alarm_pb2.WatchedMetricsResponse(version=registry.version)
        if registry.version != request.known_version:
            response.changed = True
            for account, namespace, name, dims in registry.by_metric:
                response.metrics.add(account_id=account, namespace=namespace, metric_name=name,
                                     dimensions=[metrics_pb2.Dimension(name=n, value=v) for n, v in dims])
        return response
