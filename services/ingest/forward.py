"""Forwarding the datums of watched metrics to the alarm service, right after they are acknowledged.

::

    PutMetricData ── submit (durable) ── Forwarder.offer(account, batch, acked)     sync, O(datums)
                                             │ watched datums only (set lookup per datum)
                                             v
                                         bounded queue ──> sender task ──ObserveDatapoints (client stream)──> alarm
                                                              batches of up to MAX_BATCH datums
    watcher task ──WatchedMetrics(known_version, long poll)──> alarm: the set of watched metric keys

**Never in PutMetricData's way.** :meth:`Forwarder.offer` is synchronous and cheap: one tuple and
one set lookup per datum (nothing at all for an account with no watched metric), then an append
to a bounded queue. It never awaits, never raises. When the alarm service is down, slow or gone,
the queue fills and the oldest datums beyond ``max_pending`` are dropped and counted
(:attr:`Forwarder.dropped`); the sender reconnects with tenacity's exponential backoff. Every
message carries the running drop count, and the alarm service refills its windows from
GetMetricStatistics when a stream (re)connects or the count grows, so what was dropped is
recovered there (at the cost of one read per alarm).

**Who may call.** The alarm service accepts these two RPCs only from a principal token naming
:data:`SERVICE_ACCOUNT` with no access key, which only holders of the internal key can sign
(the auth service always names the access key it verified, so no tenant's token looks like it).

**Watched set.** A long poll: the alarm service answers at once when its version differs from the
one ingest holds, else when it changes (or after ``wait`` seconds). Every call says which version
ingest holds, which is how the alarm service knows ingest forwards a new alarm's metric before it
backfills that alarm.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections import deque
from collections.abc import AsyncIterator

import grpc
from tenacity import AsyncRetrying, retry_if_exception_type, wait_exponential_jitter

from stackwatch import logs
from stackwatch.clock import Clock
from stackwatch.domain.metrics import DatumBatch
from stackwatch.proto.alarm.v1 import alarm_pb2, alarm_pb2_grpc
from stackwatch.proto.auth.v1 import auth_pb2
from stackwatch.proto.metrics.v1 import metrics_pb2
from stackwatch.rpc import TokenSigner, principal_metadata

LOG = logging.getLogger(__name__)

#: The account a service-to-service principal token names (no tenant account looks like it).
SERVICE_ACCOUNT = "stackwatch-internal"
#: The user ingest's service token names.
INGEST_USER = "stackwatch-ingest"
#: Most datums in one ObserveDatapoints message.
MAX_BATCH = 5_000

MetricKey = tuple[str, str, str, tuple[tuple[str, str], ...]]


def service_token(tokens: TokenSigner, user: str = INGEST_USER) -> str:
    """A principal token for a call between services."""
    return tokens.issue(auth_pb2.Principal(account_id=SERVICE_ACCOUNT, user=user))


def is_service(principal: auth_pb2.Principal) -> bool:
    """Whether a verified principal is a service (see the module docstring)."""
    return principal.account_id == SERVICE_ACCOUNT and not principal.access_key_id


class _Disconnected(Exception):
    """The stream or the poll failed; the retry loop reconnects."""


class Forwarder:
    """Forwards watched datums to the alarm service (see the module docstring).

    Args:
        stub: the alarm service's stub.
        tokens: signs the service token.
        clock: the time source (acknowledgement times).
        max_pending: most datums queued; beyond, the oldest are dropped.
        wait: the long poll's longest wait, seconds.
    """

    def __init__(self, stub: alarm_pb2_grpc.AlarmServiceStub, tokens: TokenSigner, clock: Clock,
                 max_pending: int = 200_000, wait: float = 20.0) -> None:
        self._stub = stub
        self._tokens = tokens
        self._limited = logs.RateLimitedLog(LOG, limit=1, interval=60.0)  # the alarm service may be long gone
        self._clock = clock
        self._max_pending = max_pending
        self._wait = wait
        self.instance = uuid.uuid4().hex
        self.version = 0
        self.watched: set[MetricKey] = set()
        self._accounts: set[tuple[str, str]] = set()
        self._queue: deque[tuple[MetricKey, alarm_pb2.ObservedDatum]] = deque()
        self._ready = asyncio.Event()
        self.forwarded = 0
        self.dropped = 0
        self.connects = 0

    # -- the hot path ------------------------------------------------------------------------------
    def offer(self, account: str, batch: DatumBatch, acknowledged: float) -> None:
        """Queue the watched datums of an acknowledged batch (never blocks, never raises)."""
        if (account, batch.namespace) not in self._accounts:
            return
        try:
            watched, ns = self.watched, batch.namespace
            queue = self._queue
            for i, name in enumerate(batch.metric_names):
                key = (account, ns, name, batch.dimensions[i])  # canonical Dimension tuples hash as pairs
                if key not in watched:
                    continue
                queue.append((key, alarm_pb2.ObservedDatum(
                    timestamp=batch.timestamps[i], sample_count=batch.sample_counts[i], sum=batch.sums[i],
                    minimum=batch.minimums[i], maximum=batch.maximums[i], values=batch.values[i],
                    counts=batch.counts[i], unit=batch.units[i], acknowledged_at=acknowledged)))
            excess = len(queue) - self._max_pending
            for _ in range(max(excess, 0)):
                queue.popleft()
            if excess > 0:
                self.dropped += excess
                LOG.warning("alarm forwarding: %d datums dropped (%d in all): the alarm service is behind",
                            excess, self.dropped)
            if queue:
                self._ready.set()
        except Exception:  # forwarding is best effort: PutMetricData never fails because of it
            LOG.exception("alarm forwarding: a batch could not be queued")

    # -- the tasks -----------------------------------------------------------------------------------
    async def run(self) -> None:
        """Keep the watched set current and stream the queue, until cancelled."""
        async with asyncio.TaskGroup() as group:
            group.create_task(self._forever(self._watch_once, "watched-metrics poll"))
            group.create_task(self._forever(self._stream_once, "datapoint stream"))

    async def _forever(self, once: object, what: str) -> None:
        assert callable(once)
        retrying = AsyncRetrying(retry=retry_if_exception_type(_Disconnected),
                                 wait=wait_exponential_jitter(multiplier=0.1, max=5.0), reraise=True)
        async for attempt in retrying:
            with attempt:
                try:
                    await once()
                except grpc.aio.AioRpcError as e:
                    self._limited.log(logging.INFO, what, "alarm forwarding: %s ended (%s); reconnecting", what,
                                      e.code().name)
                    raise _Disconnected from None
                except Exception:
                    LOG.exception("alarm forwarding: %s failed; reconnecting", what)
                    raise _Disconnected from None

    async def _watch_once(self) -> None:
        while True:
            response: alarm_pb2.WatchedMetricsResponse = await self._stub.WatchedMetrics(
                alarm_pb2.WatchedMetricsRequest(known_version=self.version, instance=self.instance,
                                                wait_seconds=self._wait),
                timeout=self._wait + 10.0, metadata=principal_metadata(service_token(self._tokens)))
            if response.changed:
                self.watched = {(m.account_id, m.namespace, m.metric_name,
                                 tuple((d.name, d.value) for d in m.dimensions)) for m in response.metrics}
                self._accounts = {(k[0], k[1]) for k in self.watched}
            self.version = response.version

    async def _stream_once(self) -> None:
        self.connects += 1
        call = self._stub.ObserveDatapoints(self._messages(), metadata=principal_metadata(service_token(self._tokens)))
        await call

    async def _messages(self) -> AsyncIterator[alarm_pb2.ObserveDatapointsRequest]:
        yield alarm_pb2.ObserveDatapointsRequest(sender=self.instance, dropped=self.dropped)  # opens the stream
        while True:
            if not self._queue:
                self._ready.clear()
                await self._ready.wait()
            request = alarm_pb2.ObserveDatapointsRequest(sender=self.instance, dropped=self.dropped)
            by_metric: dict[MetricKey, alarm_pb2.ObservedSeries] = {}
            taken = 0
            newest = 0.0
            while self._queue and taken < MAX_BATCH:
                key, datum = self._queue.popleft()
                series = by_metric.get(key)
                if series is None:
                    series = by_metric[key] = request.series.add(metric=alarm_pb2.WatchedMetric(
                        account_id=key[0], namespace=key[1], metric_name=key[2],
                        dimensions=[metrics_pb2.Dimension(name=n, value=v) for n, v in key[3]]))
                series.datums.append(datum)
                newest = max(newest, datum.acknowledged_at)
                taken += 1
            request.acknowledged_at.FromNanoseconds(int(newest * 1e9))
            self.forwarded += taken
            yield request


@contextlib.asynccontextmanager
async def forwarding(address: str | None, tokens: TokenSigner, clock: Clock) -> AsyncIterator[Forwarder | None]:
    """Run a forwarder to the alarm service at ``address`` for the context (None: no forwarding)."""
    if not address:
        yield None
        return
    from stackwatch.rpc._channel import CLIENT_OPTIONS, channel_target

    # A subchannel pool of its own: the forwarder starts before the alarm service and fails to
    # connect at first; a shared subchannel would make that failure's backoff every other
    # channel's to the same address in this process (the gateway's, when a stack runs in one).
    channel = grpc.aio.insecure_channel(channel_target(address),
                                       options=[*CLIENT_OPTIONS, ("grpc.use_local_subchannel_pool", 1)])
    forwarder = Forwarder(alarm_pb2_grpc.AlarmServiceStub(channel), tokens, clock)
    task = asyncio.create_task(forwarder.run(), name="alarm-forwarder")
    try:
        yield forwarder
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
        LOG.info("alarm forwarding stopped: %d forwarded, %d dropped, %d connections", forwarder.forwarded,
                 forwarder.dropped, forwarder.connects)
        await channel.close()
