# ruff: noqa: D103 - test names say what each test checks
"""The alarm service over a real grpc.aio server, called as a program that bypasses the gateway.

Requests the gateway would never send (no principal, a forged token, invalid values) must be
refused by the service itself, with the AWS code CloudWatch gives.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import grpc
import pytest

from services.alarm.main import running
from stackwatch import errors
from stackwatch.clock import FakeClock
from stackwatch.config import AlarmSettings
from stackwatch.proto.alarm.v1 import alarm_pb2, alarm_pb2_grpc
from stackwatch.proto.auth.v1 import auth_pb2
from stackwatch.rpc import TokenSigner, error_from_rpc, principal_metadata

KEY = b"contract-test-internal-key-00000"
NOW = 1_714_564_800
PRINCIPAL = auth_pb2.Principal(account_id="1b7c7f1e-0000-4000-8000-00000000a1a7", user="dave",
                               access_key_id="AKIAALARMCONTRACT001", account_number="000000000043")


@dataclass
class Alarms:
    """A stub on the running service and the metadata that proves the caller's principal."""

    stub: alarm_pb2_grpc.AlarmServiceStub
    metadata: tuple[tuple[str, str], ...]


@pytest.fixture
async def alarms(chdb_url: str) -> AsyncIterator[Alarms]:
    clock = FakeClock(NOW)
    settings = AlarmSettings(bind="127.0.0.1:0", store_url=chdb_url, database=f"contract_{uuid.uuid4().hex[:12]}",
                             ingest_address="127.0.0.1:1", evaluation_interval=3600)
    async with running(settings, KEY, clock=clock) as handle:
        channel = grpc.aio.insecure_channel(f"127.0.0.1:{handle.port}")
        token = TokenSigner(KEY, clock).issue(PRINCIPAL)
        yield Alarms(alarm_pb2_grpc.AlarmServiceStub(channel), principal_metadata(token))
        await channel.close()


def alarm(**fields: Any) -> alarm_pb2.MetricAlarm:
    base: dict[str, Any] = {"alarm_name": "cpu", "namespace": "Contract", "metric_name": "CPU", "statistic": "Average",
                            "period": 60, "evaluation_periods": 3, "threshold": 80.0,
                            "comparison_operator": "GreaterThanThreshold"}
    return alarm_pb2.MetricAlarm(**{**base, **fields})


async def refused(call: Any) -> errors.ServiceError:
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await call
    return error_from_rpc(info.value)


async def test_a_call_without_a_principal_is_refused(alarms: Alarms) -> None:
    error = await refused(alarms.stub.DescribeAlarms(alarm_pb2.DescribeAlarmsRequest()))
    assert isinstance(error, errors.MissingAuthenticationToken)


async def test_a_token_signed_with_another_key_is_refused(alarms: Alarms) -> None:
    forged = TokenSigner(b"some-other-key-0123456789abcdef", FakeClock(NOW)).issue(PRINCIPAL)
    error = await refused(alarms.stub.DescribeAlarms(alarm_pb2.DescribeAlarmsRequest(),
                                                     metadata=principal_metadata(forged)))
    assert isinstance(error, errors.InvalidClientTokenId)


@pytest.mark.parametrize(("fields", "code"), [
    pytest.param({"comparison_operator": "Bigger"}, "InvalidParameterValue", id="operator"),
    pytest.param({"treat_missing_data": "sometimes"}, "InvalidParameterValue", id="treat-missing-data"),
    pytest.param({"extended_statistic": "p99"}, "InvalidParameterCombination", id="both-statistics"),
    pytest.param({"statistic": "Median"}, "InvalidParameterValue", id="statistic"),
    pytest.param({"period": 90}, "InvalidParameterValue", id="period"),
    pytest.param({"datapoints_to_alarm": 4}, "InvalidParameterValue", id="m-above-n"),
    pytest.param({"alarm_name": ""}, "InvalidParameterValue", id="empty-name"),
    pytest.param({"alarm_actions": ["not-an-arn"]}, "InvalidParameterValue", id="action"),
    pytest.param({"ok_actions": [f"arn:aws:sns:us-east-1:1:t{i}" for i in range(6)]}, "LimitExceeded",
                 id="six-actions"),
])
async def test_put_metric_alarm_refuses_what_cloudwatch_refuses(alarms: Alarms, fields: dict[str, Any],
                                                                 code: str) -> None:
    request = alarm_pb2.PutMetricAlarmRequest(alarm=alarm(**fields))
    error = await refused(alarms.stub.PutMetricAlarm(request, metadata=alarms.metadata))
    assert error.code == code


async def test_put_then_describe_over_grpc(alarms: Alarms) -> None:
    await alarms.stub.PutMetricAlarm(alarm_pb2.PutMetricAlarmRequest(alarm=alarm()), metadata=alarms.metadata)
    response = await alarms.stub.DescribeAlarms(alarm_pb2.DescribeAlarmsRequest(alarm_names=["cpu"]),
                                                metadata=alarms.metadata)
    [described] = response.metric_alarms
    assert described.alarm_arn == "arn:aws:cloudwatch:us-east-1:000000000043:alarm:cpu"
    assert described.state_value == alarm_pb2.STATE_VALUE_INSUFFICIENT_DATA
    assert not described.HasField("datapoints_to_alarm") and not described.HasField("treat_missing_data")
    assert described.actions_enabled is True
    assert described.state_updated_timestamp.seconds == NOW


async def test_set_alarm_state_checks_the_state_value(alarms: Alarms) -> None:
    await alarms.stub.PutMetricAlarm(alarm_pb2.PutMetricAlarmRequest(alarm=alarm()), metadata=alarms.metadata)
    request = alarm_pb2.SetAlarmStateRequest(alarm_name="cpu", state_value="RED", state_reason="x")
    error = await refused(alarms.stub.SetAlarmState(request, metadata=alarms.metadata))
    assert isinstance(error, errors.InvalidParameterValue)


async def test_page_sizes_outside_1_to_100_are_refused(alarms: Alarms) -> None:
    for call in (alarms.stub.DescribeAlarms(alarm_pb2.DescribeAlarmsRequest(max_records=101), metadata=alarms.metadata),
                 alarms.stub.DescribeAlarmHistory(alarm_pb2.DescribeAlarmHistoryRequest(max_records=-1),
                                                  metadata=alarms.metadata)):
        assert isinstance(await refused(call), errors.InvalidParameterValue)
