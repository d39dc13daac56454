# ruff: noqa: D103 - test names say what each test checks
"""The alarm scheduler's reader against a real ingest service: tokens it signs, statistics it reads.

The reader acts for the alarm's account with a principal token signed by the internal key; ingest
must accept it, answer for that account only, and the reader must turn the answer into one
:class:`Datapoint` per period, for basic statistics and percentiles alike.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import grpc
import pytest
from google.protobuf import timestamp_pb2

from services.alarm.main import IngestReader
from services.alarm.records import AlarmConfig
from services.ingest.main import running
from stackwatch.clock import FakeClock
from stackwatch.config import IngestSettings
from stackwatch.proto.auth.v1 import auth_pb2
from stackwatch.proto.metrics.v1 import metrics_pb2, metrics_pb2_grpc
from stackwatch.rpc import TokenSigner, principal_metadata

KEY = b"contract-test-internal-key-00000"
NOW = 1_714_564_800  # 2024-05-01T12:00:00Z
ACCOUNT = "1b7c7f1e-0000-4000-8000-00000000feed"


@pytest.fixture
async def reader(chdb_url: str) -> AsyncIterator[tuple[IngestReader, metrics_pb2_grpc.IngestServiceStub]]:
    clock = FakeClock(NOW)
    settings = IngestSettings(bind="127.0.0.1:0", store_url=chdb_url, database=f"contract_{uuid.uuid4().hex[:12]}",
                              commit_interval=0.0)
    async with running(settings, KEY, clock=clock) as handle:
        channel = grpc.aio.insecure_channel(f"127.0.0.1:{handle.port}")
        stub = metrics_pb2_grpc.IngestServiceStub(channel)
        yield IngestReader(stub, TokenSigner(KEY, clock), timeout=10.0), stub
        await channel.close()


def config(**fields: Any) -> AlarmConfig:
    base: dict[str, Any] = {"name": "lat", "namespace": "Contract", "metric_name": "Latency", "dimensions": (),
                            "period": 60, "evaluation_periods": 3, "threshold": 1.0,
                            "comparison_operator": "GreaterThanThreshold", "statistic": "Maximum"}
    return AlarmConfig(**{**base, **fields})


async def put(stub: metrics_pb2_grpc.IngestServiceStub, account: str, *data: tuple[int, list[float]]) -> None:
    token = TokenSigner(KEY, FakeClock(NOW)).issue(auth_pb2.Principal(account_id=account, user="test"))
    datums = [metrics_pb2.MetricDatum(metric_name="Latency", timestamp=timestamp_pb2.Timestamp(seconds=t),
                                      values=values, counts=[1.0] * len(values)) for t, values in data]
    await stub.PutMetricData(metrics_pb2.PutMetricDataRequest(namespace="Contract", metric_data=datums),
                             metadata=principal_metadata(token))


def at(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


async def test_the_reader_reads_one_datapoint_per_period_for_the_alarms_account(reader):
    read, stub = reader
    await put(stub, ACCOUNT, (NOW - 120, [1.0, 5.0]), (NOW - 50, [7.0]))
    await put(stub, "someone-else", (NOW - 120, [100.0]))
    points = await read(ACCOUNT, config(), at(NOW - 180), at(NOW))
    assert [(p.timestamp, p.value, p.sample_count) for p in points] == [
        (at(NOW - 120), 5.0, 2.0), (at(NOW - 60), 7.0, 1.0)]


async def test_the_reader_reads_percentiles(reader):
    read, stub = reader
    await put(stub, ACCOUNT, (NOW - 120, [float(v) for v in range(1, 101)]))
    points = await read(ACCOUNT, config(statistic=None, extended_statistic="p90"), at(NOW - 180), at(NOW))
    assert [(p.timestamp, p.value, p.sample_count) for p in points] == [(at(NOW - 120), 90.0, 100.0)]
