# ruff: noqa: D103 - test names say what each test checks
"""The ingest service over a real grpc.aio server, called as a program that bypasses the gateway.

The gateway checks every request against CloudWatch's model before it calls ingest, but the protos
are a public internal API: anything holding a principal token (or API keys) may call ingest
directly. These tests send requests the gateway would never let through and expect ingest's own
domain to refuse them with the same AWS code and message the gateway gives.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import grpc
import pytest
from google.protobuf import timestamp_pb2

from services.ingest.main import running
from stackwatch import errors
from stackwatch.clock import FakeClock
from stackwatch.config import IngestSettings
from stackwatch.proto.auth.v1 import auth_pb2
from stackwatch.proto.metrics.v1 import metrics_pb2, metrics_pb2_grpc
from stackwatch.rpc import TokenSigner, error_from_rpc, principal_metadata

KEY = b"contract-test-internal-key-00000"
NOW = 1_714_564_800  # 2024-05-01T12:00:00Z, a whole minute
PRINCIPAL = auth_pb2.Principal(account_id="1b7c7f1e-0000-4000-8000-00000000c0de", user="carol",
                               access_key_id="AKIAINGESTCONTRACT01", account_number="000000000042")
UNITS = ("Seconds, Microseconds, Milliseconds, Bytes, Kilobytes, Megabytes, Gigabytes, Terabytes, Bits, "
         "Kilobits, Megabits, Gigabits, Terabits, Percent, Count, Bytes/Second, Kilobytes/Second, "
         "Megabytes/Second, Gigabytes/Second, Terabytes/Second, Bits/Second, Kilobits/Second, "
         "Megabits/Second, Gigabits/Second, Terabits/Second, Count/Second, None")


@dataclass
class Ingest:
    """A stub on the running service and the metadata that proves the caller's principal."""

    stub: metrics_pb2_grpc.IngestServiceStub
    metadata: tuple[tuple[str, str], ...]


@pytest.fixture
async def ingest(chdb_url: str) -> AsyncIterator[Ingest]:
    clock = FakeClock(NOW)
    database = f"contract_{uuid.uuid4().hex[:12]}"
    settings = IngestSettings(bind="127.0.0.1:0", store_url=chdb_url, database=database, commit_interval=0.0)
    async with running(settings, KEY, clock=clock) as handle:
        channel = grpc.aio.insecure_channel(f"127.0.0.1:{handle.port}")
        token = TokenSigner(KEY, clock).issue(PRINCIPAL)
        yield Ingest(metrics_pb2_grpc.IngestServiceStub(channel), principal_metadata(token))
        await channel.close()


def ts(seconds: int) -> timestamp_pb2.Timestamp:
    return timestamp_pb2.Timestamp(seconds=seconds)


def get_request(**fields: Any) -> metrics_pb2.GetMetricStatisticsRequest:
    base: dict[str, Any] = {"namespace": "Contract", "metric_name": "Latency", "start_time": ts(NOW - 600),
                               "end_time": ts(NOW), "period": 60, "statistics": ["Sum", "SampleCount"]}
    return metrics_pb2.GetMetricStatisticsRequest(**{**base, **fields})


async def refused(call: Any) -> errors.ServiceError:
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await call
    return error_from_rpc(info.value)


async def test_get_metric_statistics_refuses_an_unknown_unit(ingest: Ingest) -> None:
    call = ingest.stub.GetMetricStatistics(get_request(unit="Parsecs"), metadata=ingest.metadata)

    error = await refused(call)

    assert isinstance(error, errors.InvalidParameterValue)
    assert error.message == f"The parameter Unit must be a value in the set [ {UNITS} ]."


async def test_get_metric_statistics_refuses_a_present_but_empty_unit(ingest: Ingest) -> None:
    call = ingest.stub.GetMetricStatistics(get_request(unit=""), metadata=ingest.metadata)

    error = await refused(call)

    assert isinstance(error, errors.InvalidParameterValue)
    assert error.message.startswith("The parameter Unit must be a value in the set [ Seconds,")


EMPTY, TOO_LONG = "must be longer than 0 characters.", "must be shorter than 256 characters."
RECENTLY_ACTIVE = "The parameter RecentlyActive must be a value in the set [ PT3H ]."


@pytest.mark.parametrize(("fields", "message"), [
    pytest.param({"namespace": ""}, f"The parameter Namespace {EMPTY}", id="namespace-empty"),
    pytest.param({"namespace": "n" * 256}, f"The parameter Namespace {TOO_LONG}", id="namespace-256"),
    pytest.param({"namespace": ":x"}, "The value :x for parameter Namespace is not matching the expected "
                 "pattern [^:].*.", id="namespace-leading-colon"),
    pytest.param({"metric_name": ""}, f"The parameter MetricName {EMPTY}", id="metric-name-empty"),
    pytest.param({"metric_name": "m" * 256}, f"The parameter MetricName {TOO_LONG}", id="metric-name-256"),
    pytest.param({"recently_active": ""}, RECENTLY_ACTIVE, id="recently-active-empty"),
    pytest.param({"recently_active": "PT1H"}, RECENTLY_ACTIVE, id="recently-active-pt1h"),
])
async def test_list_metrics_refuses_what_the_model_forbids(ingest: Ingest, fields: dict[str, Any],
                                                           message: str) -> None:
    error = await refused(ingest.stub.ListMetrics(metrics_pb2.ListMetricsRequest(**fields),
                                                  metadata=ingest.metadata))

    assert isinstance(error, errors.InvalidParameterValue)
    assert error.message == message


async def test_valid_unit_and_list_filters_still_answer(ingest: Ingest) -> None:
    datum = metrics_pb2.MetricDatum(metric_name="Latency", timestamp=ts(NOW - 120), value=7.0,
                                    unit="Milliseconds")
    put = metrics_pb2.PutMetricDataRequest(namespace="Contract", metric_data=[datum])
    await ingest.stub.PutMetricData(put, metadata=ingest.metadata)

    same = await ingest.stub.GetMetricStatistics(get_request(unit="Milliseconds"), metadata=ingest.metadata)
    other = await ingest.stub.GetMetricStatistics(get_request(unit="Seconds"), metadata=ingest.metadata)
    listed = await ingest.stub.ListMetrics(
        metrics_pb2.ListMetricsRequest(namespace="Contract", metric_name="Latency", recently_active="PT3H"),
        metadata=ingest.metadata)

    assert [(dp.timestamp.seconds, dp.unit, dp.sum, dp.sample_count) for dp in same.datapoints] == [
        (NOW - 120, "Milliseconds", 7.0, 1.0)]
    assert list(other.datapoints) == []
    assert [(m.namespace, m.metric_name) for m in listed.metrics] == [("Contract", "Latency")]


def data_request(*queries: metrics_pb2.MetricDataQuery, start: int = NOW - 600, end: int = NOW,
                 **fields: Any) -> metrics_pb2.GetMetricDataRequest:
    return metrics_pb2.GetMetricDataRequest(metric_data_queries=queries, start_time=ts(start), end_time=ts(end),
                                            **fields)


def stat_query(id: str = "m1", period: int = 60, stat: str = "Sum", **fields: Any) -> metrics_pb2.MetricDataQuery:
    metric = metrics_pb2.Metric(namespace="Contract", metric_name="Latency")
    return metrics_pb2.MetricDataQuery(id=id, metric_stat=metrics_pb2.MetricStat(
        metric=metric, period=period, stat=stat, **fields))


@pytest.mark.parametrize(("request_", "error", "message"), [
    pytest.param(data_request(stat_query(unit="Parsecs")), errors.InvalidParameterValue,
                 "The parameter MetricDataQueries.member.1.MetricStat.Unit must be a value in the set [ Seconds,",
                 id="unit"),
    pytest.param(data_request(stat_query(), max_datapoints=0), errors.InvalidParameterValue,
                 "The parameter MaxDatapoints must be greater than or equal to 1.", id="max-datapoints"),
    pytest.param(data_request(stat_query(), scan_by="Sideways"), errors.InvalidParameterValue,
                 "The parameter ScanBy must be a value in the set [ TimestampDescending, TimestampAscending ].",
                 id="scan-by"),
    pytest.param(data_request(stat_query(period=0)), errors.MissingParameter,
                 "The parameter MetricDataQueries.member.1.MetricStat.Period is required.", id="period-missing"),
    pytest.param(data_request(), errors.MissingParameter, "The parameter MetricDataQueries is required.",
                 id="no-queries"),
    pytest.param(data_request(stat_query(), next_token="garbage"), errors.InvalidNextToken,
                 "The service couldn't process your request because the NextToken is invalid.", id="token"),
])
async def test_get_metric_data_refuses_what_the_gateway_would(ingest: Ingest, request_: Any,
                                                              error: type[errors.ServiceError], message: str) -> None:
    got = await refused(ingest.stub.GetMetricData(request_, metadata=ingest.metadata))

    assert type(got) is error
    assert got.message.startswith(message)


async def test_get_metric_data_granularity_by_age_and_pages(ingest: Ingest) -> None:
    put = metrics_pb2.PutMetricDataRequest(namespace="Contract", metric_data=[
        metrics_pb2.MetricDatum(metric_name="Latency", timestamp=ts(NOW - 4 * 3600 + 60 * m), value=float(m))
        for m in range(3)])
    await ingest.stub.PutMetricData(put, metadata=ingest.metadata)
    start = NOW - 4 * 3600 + 13  # four hours old: rounds down to the minute; 10 s data no longer kept

    fine = await ingest.stub.GetMetricData(data_request(stat_query("s", period=10), start=start, end=NOW),
                                           metadata=ingest.metadata)
    first = await ingest.stub.GetMetricData(
        data_request(stat_query(), start=start, end=NOW, max_datapoints=2, scan_by="TimestampAscending"),
        metadata=ingest.metadata)
    rest = await ingest.stub.GetMetricData(
        data_request(stat_query(), start=start, end=NOW, max_datapoints=2, scan_by="TimestampAscending",
                     next_token=first.next_token), metadata=ingest.metadata)

    assert [(r.id, list(r.values), r.status_code) for r in fine.metric_data_results] == [("s", [], "Complete")]
    [a], [b] = first.metric_data_results, rest.metric_data_results
    assert (list(a.timestamps), list(a.values), a.status_code) == ([NOW - 4 * 3600, NOW - 4 * 3600 + 60], [0.0, 1.0],
                                                                   "PartialData")
    assert (list(b.values), b.status_code, rest.HasField("next_token")) == ([2.0], "Complete", False)
