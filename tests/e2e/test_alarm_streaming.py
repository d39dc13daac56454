"""Streaming evaluation end to end: boto3 puts breaching data, the alarm is in ALARM within the bound.

The issue's bounds (item 3): an alarm on 10-second data changes state within 2 s after the
breaching period closes, a 1-minute alarm within 5 s. The assertions compare the alarm's
``StateUpdatedTimestamp`` with the end of the period, so a loaded machine that is slow to *answer*
DescribeAlarms does not count against the service; only a late evaluation does. The datapoints
reach the alarm service over ingest's stream (checked on the running scheduler's counters), not
through a read of ingest. One wire protocol is enough here: the path under test starts after the
gateway.
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from typing import Any

from services.alarm.main import SCHEDULERS
from tests.e2e.conftest import _client


def _wait_for_state(cw: Any, name: str, state: str, until: float) -> dict[str, Any]:
    alarm: dict[str, Any] = {}
    while time.time() < until:
        [alarm] = cw.describe_alarms(AlarmNames=[name])["MetricAlarms"]
        if alarm["StateValue"] == state:
            return alarm
        time.sleep(0.1)
    return alarm


def _breach_in_open_period(cw: Any, namespace: str, name: str, period: int, resolution: int) -> float:
    """Put the alarm and a breaching datum into the period open now; the end of that period."""
    now = time.time()
    if (now % period) > period - 3:  # too close to the end: use the next period
        time.sleep(period - now % period + 0.1)
    cw.put_metric_alarm(AlarmName=name, Namespace=namespace, MetricName="Queue", Statistic="Maximum",
                        Dimensions=[{"Name": "Q", "Value": "jobs"}], Period=period, EvaluationPeriods=1,
                        Threshold=100.0, ComparisonOperator="GreaterThanThreshold")
    now = time.time()
    end = (int(now) // period + 1) * period
    cw.put_metric_data(Namespace=namespace, MetricData=[{
        "MetricName": "Queue", "Dimensions": [{"Name": "Q", "Value": "jobs"}], "Value": 500.0,
        "Timestamp": datetime.fromtimestamp(now, UTC), "StorageResolution": resolution}])
    return float(end)


def _delay(stack: Any, tmp_path_factory: Any, period: int, resolution: int) -> float:
    cw = _client(stack, "json", "a", tmp_path_factory)
    namespace, name = f"E2E/{uuid.uuid4().hex[:12]}", f"stream-{uuid.uuid4().hex[:8]}"
    scheduler = SCHEDULERS[stack.alarm_port]
    until = time.time() + 15
    while not scheduler.streaming and time.time() < until:  # ingest backs off until the alarm service answers
        time.sleep(0.05)
    observed = scheduler.observed
    end = _breach_in_open_period(cw, namespace, name, period, resolution)
    alarm = _wait_for_state(cw, name, "ALARM", end + 15)
    assert alarm["StateValue"] == "ALARM", alarm
    assert scheduler.streaming and scheduler.observed > observed  # the datum came over the stream
    delay = alarm["StateUpdatedTimestamp"].timestamp() - end
    print(f"{period}-second alarm: ALARM {delay:.3f} s after its period closed")
    return delay


def test_a_ten_second_alarm_is_in_alarm_within_two_seconds_after_its_period_closes(stack, tmp_path_factory):
    delay = _delay(stack, tmp_path_factory, 10, 1)
    assert 0 <= delay < 2.0


def test_a_one_minute_alarm_is_in_alarm_within_five_seconds_after_its_period_closes(stack, tmp_path_factory):
    delay = _delay(stack, tmp_path_factory, 60, 60)
    assert 0 <= delay < 5.0
