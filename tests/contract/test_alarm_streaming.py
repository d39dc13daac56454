# ruff: noqa: D103 - test names say what each test checks
"""Ingest → alarm streaming between the two real services over gRPC.

Ingest learns the watched metrics from the alarm service (WatchedMetrics), forwards the datums of
those metrics right after acknowledging them (ObserveDatapoints), and the alarm changes state
within the issue's bound after its period closes. The two internal RPCs refuse tenants, and a
forwarder whose alarm service is gone never holds PutMetricData up.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass

import grpc
import pytest
from google.protobuf import timestamp_pb2

from services.alarm.main import SCHEDULERS
from services.alarm.main import running as alarm_running
from services.alarm.scheduler import Scheduler
from services.ingest.forward import Forwarder, service_token
from services.ingest.main import running as ingest_running
from stackwatch import errors
from stackwatch.clock import SystemClock
from stackwatch.config import AlarmSettings, IngestSettings
from stackwatch.domain.metrics import DatumBatch, Dimension
from stackwatch.proto.alarm.v1 import alarm_pb2, alarm_pb2_grpc
from stackwatch.proto.auth.v1 import auth_pb2
from stackwatch.proto.metrics.v1 import metrics_pb2, metrics_pb2_grpc
from stackwatch.rpc import TokenSigner, error_from_rpc, principal_metadata
from stackwatch.supervisor import free_port

KEY = b"contract-test-internal-key-00000"
TENANT = auth_pb2.Principal(account_id="1b7c7f1e-0000-4000-8000-00000000beef", user="erin",
                            access_key_id="AKIASTREAMCONTRACT01", account_number="000000000077")


@dataclass
class Stack:
    """Stubs on a running ingest and alarm service, and the tenant's metadata."""

    ingest: metrics_pb2_grpc.IngestServiceStub
    alarm: alarm_pb2_grpc.AlarmServiceStub
    metadata: tuple[tuple[str, str], ...]
    scheduler: Scheduler


@pytest.fixture
async def stack(chdb_url: str) -> AsyncIterator[Stack]:
    db = f"contract_{uuid.uuid4().hex[:12]}"
    alarm_port = free_port()
    async with contextlib_stack() as enter:
        ingest = await enter(ingest_running(IngestSettings(
            bind="127.0.0.1:0", store_url=chdb_url, database=db, commit_interval=0.0,
            alarm_address=f"127.0.0.1:{alarm_port}"), KEY))
        await enter(alarm_running(AlarmSettings(
            bind=f"127.0.0.1:{alarm_port}", store_url=chdb_url, database=f"{db}_alarms",
            ingest_address=f"127.0.0.1:{ingest.port}", evaluation_interval=1.0), KEY))
        ingest_channel = grpc.aio.insecure_channel(f"127.0.0.1:{ingest.port}")
        alarm_channel = grpc.aio.insecure_channel(f"127.0.0.1:{alarm_port}")
        token = TokenSigner(KEY).issue(TENANT)
        scheduler = SCHEDULERS[alarm_port]
        for _ in range(300):  # ingest started first and backs off until the alarm service answers
            if scheduler.streaming:
                break
            await asyncio.sleep(0.05)
        yield Stack(metrics_pb2_grpc.IngestServiceStub(ingest_channel), alarm_pb2_grpc.AlarmServiceStub(alarm_channel),
                    principal_metadata(token), scheduler)
        await ingest_channel.close()
        await alarm_channel.close()


def contextlib_stack():  # type: ignore[no-untyped-def]
    import contextlib

    @contextlib.asynccontextmanager
    async def stack():  # type: ignore[no-untyped-def]
        async with contextlib.AsyncExitStack() as s:
            yield s.enter_async_context

    return stack()


async def test_a_ten_second_alarm_changes_state_within_two_seconds_of_its_period_closing(stack: Stack) -> None:
    dims = [metrics_pb2.Dimension(name="Host", value="h1")]
    await stack.alarm.PutMetricAlarm(alarm_pb2.PutMetricAlarmRequest(alarm=alarm_pb2.MetricAlarm(
        alarm_name="hot", namespace="Stream", metric_name="Temp", dimensions=dims, statistic="Maximum",
        period=10, evaluation_periods=1, threshold=50.0, comparison_operator="GreaterThanThreshold")),
        metadata=stack.metadata)
    # the first evaluation comes when the period open at creation closes; data goes into the next one
    now = time.time()
    start = (int(now) // 10 + 1) * 10
    await asyncio.sleep(start - now + 0.2)
    ts = timestamp_pb2.Timestamp()
    ts.FromMilliseconds(int((start + 1) * 1000))
    await stack.ingest.PutMetricData(metrics_pb2.PutMetricDataRequest(namespace="Stream", metric_data=[
        metrics_pb2.MetricDatum(metric_name="Temp", dimensions=dims, value=90.0, timestamp=ts,
                                storage_resolution=1)]), metadata=stack.metadata)
    end = start + 10
    deadline = end + 5.0
    alarm = None
    while time.time() < deadline:
        found = await stack.alarm.DescribeAlarms(alarm_pb2.DescribeAlarmsRequest(alarm_names=["hot"]),
                                                 metadata=stack.metadata)
        alarm = found.metric_alarms[0]
        if alarm.state_value == alarm_pb2.STATE_VALUE_ALARM:
            break
        await asyncio.sleep(0.05)
    assert alarm is not None and alarm.state_value == alarm_pb2.STATE_VALUE_ALARM
    delay = alarm.state_updated_timestamp.ToMilliseconds() / 1000 - end
    print(f"10-second alarm: ALARM {delay:.3f} s after the period closed")
    assert 0 <= delay < 2.0
    assert "90.0" in alarm.state_reason
    assert stack.scheduler.streaming and stack.scheduler.observed == 1  # the datum came over the stream
    assert stack.scheduler.streamed_evaluations >= 1 and stack.scheduler.backfills >= 1


async def test_the_internal_rpcs_refuse_a_tenant(stack: Stack) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await stack.alarm.WatchedMetrics(alarm_pb2.WatchedMetricsRequest(), metadata=stack.metadata)
    assert isinstance(error_from_rpc(info.value), errors.AccessDenied)

    async def one() -> AsyncIterator[alarm_pb2.ObserveDatapointsRequest]:
        yield alarm_pb2.ObserveDatapointsRequest(sender="tenant")

    with pytest.raises(grpc.aio.AioRpcError) as info:
        await stack.alarm.ObserveDatapoints(one(), metadata=stack.metadata)
    assert isinstance(error_from_rpc(info.value), errors.AccessDenied)


async def test_the_service_token_gets_the_watched_set(stack: Stack) -> None:
    token = service_token(TokenSigner(KEY))
    await stack.alarm.PutMetricAlarm(alarm_pb2.PutMetricAlarmRequest(alarm=alarm_pb2.MetricAlarm(
        alarm_name="w", namespace="Stream", metric_name="Watched", statistic="Sum", period=60,
        evaluation_periods=1, threshold=1.0, comparison_operator="GreaterThanThreshold")), metadata=stack.metadata)
    answer = await stack.alarm.WatchedMetrics(alarm_pb2.WatchedMetricsRequest(instance="t", wait_seconds=0),
                                              metadata=principal_metadata(token))
    assert answer.changed
    assert [(m.account_id, m.namespace, m.metric_name) for m in answer.metrics] == [
        (TENANT.account_id, "Stream", "Watched")]
    same = await stack.alarm.WatchedMetrics(alarm_pb2.WatchedMetricsRequest(
        known_version=answer.version, instance="t", wait_seconds=0.2), metadata=principal_metadata(token))
    assert not same.changed and same.version == answer.version and not same.metrics


async def test_a_forwarder_with_no_alarm_service_never_blocks_and_counts_what_it_drops() -> None:
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{free_port()}")  # nobody listens
    forwarder = Forwarder(alarm_pb2_grpc.AlarmServiceStub(channel), TokenSigner(KEY), SystemClock(), max_pending=100)
    task = asyncio.create_task(forwarder.run())
    forwarder.watched = {("acct", "NS", "M", ())}
    forwarder._accounts = {("acct", "NS")}
    n = 250
    batch = DatumBatch("NS", ["M"] * n, [()] * n, [time.time()] * n, [1.0] * n, [1.0] * n, [1.0] * n, [1.0] * n,
                       [(1.0,)] * n, [(1.0,)] * n, ["None"] * n, [60] * n)
    other = DatumBatch("NS", ["M"], [(Dimension("a", "b"),)], [time.time()], [1.0], [1.0], [1.0], [1.0], [(1.0,)],
                       [(1.0,)], ["None"], [60])
    began = time.perf_counter()
    forwarder.offer("acct", batch, time.time())
    forwarder.offer("acct", other, time.time())  # another dimension set: not watched
    forwarder.offer("someone-else", batch, time.time())
    assert time.perf_counter() - began < 0.05
    assert forwarder.dropped == 150
    await asyncio.sleep(0.3)
    assert forwarder.connects >= 1 and forwarder.forwarded == 0
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await channel.close()
