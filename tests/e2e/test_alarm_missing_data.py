"""Each TreatMissingData mode end to end: one breaching datapoint, then silence.

Four 10-second alarms (EvaluationPeriods 1, ``Maximum > 100``) watch one metric that gets a single
datapoint of 500. CloudWatch judges by the real datapoints inside an alarm's evaluation range and
fills in missing ones only when too few real ones are there, so the timeline is::

    period with the datapoint closes     all four: ALARM (the real datapoint, whatever the mode)
    the datapoint leaves the range       missing       -> INSUFFICIENT_DATA
                                         notBreaching  -> OK
                                         breaching     -> stays ALARM
                                         ignore        -> stays ALARM (the state is kept)

The state reasons name the treatment, as CloudWatch's do.
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from typing import Any

from tests.e2e.conftest import _client

MODES = ("missing", "notBreaching", "breaching", "ignore")


def _states(cw: Any, names: dict[str, str]) -> dict[str, dict[str, Any]]:
    alarms = {a["AlarmName"]: a for a in cw.describe_alarms(AlarmNames=list(names.values()))["MetricAlarms"]}
    return {mode: alarms[name] for mode, name in names.items()}


def _until(cw: Any, names: dict[str, str], want: dict[str, str], timeout: float) -> dict[str, dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while True:
        states = _states(cw, names)
        if {m: a["StateValue"] for m, a in states.items()} == want or time.monotonic() > deadline:
            return states
        time.sleep(0.5)


def test_each_missing_data_treatment_after_one_breaching_datapoint(stack, tmp_path_factory):
    cw = _client(stack, "json", "a", tmp_path_factory)
    namespace, tag = f"E2E/{uuid.uuid4().hex[:12]}", uuid.uuid4().hex[:8]
    names = {mode: f"missing-{mode}-{tag}" for mode in MODES}
    if time.time() % 10 > 7:  # leave the datapoint's period time to be put before it closes
        time.sleep(10 - time.time() % 10 + 0.1)
    for mode, name in names.items():
        cw.put_metric_alarm(AlarmName=name, Namespace=namespace, MetricName="Depth", Statistic="Maximum",
                            Period=10, EvaluationPeriods=1, Threshold=100.0,
                            ComparisonOperator="GreaterThanThreshold", TreatMissingData=mode)
    cw.put_metric_data(Namespace=namespace, MetricData=[{
        "MetricName": "Depth", "Value": 500.0, "Timestamp": datetime.now(UTC), "StorageResolution": 1}])

    first = _until(cw, names, dict.fromkeys(MODES, "ALARM"), timeout=30)
    assert {m: a["StateValue"] for m, a in first.items()} == dict.fromkeys(MODES, "ALARM"), first
    for alarm in first.values():
        assert alarm["StateReason"].startswith("Threshold Crossed: 1 datapoint [500.0 ("), alarm["StateReason"]

    final = {"missing": "INSUFFICIENT_DATA", "notBreaching": "OK", "breaching": "ALARM", "ignore": "ALARM"}
    last = _until(cw, names, final, timeout=90)
    assert {m: a["StateValue"] for m, a in last.items()} == final, {m: (a["StateValue"], a["StateReason"])
                                                                    for m, a in last.items()}
    assert "treated as [NonBreaching]" in last["notBreaching"]["StateReason"]
    assert "no datapoints were received" in last["missing"]["StateReason"].lower() or \
        "insufficient data" in last["missing"]["StateReason"].lower(), last["missing"]["StateReason"]
    # breaching: judged again with the missing datapoint treated as breaching (a newer evaluation)
    assert last["breaching"]["StateReasonData"] != first["breaching"]["StateReasonData"]
    assert "treated as [Breaching]" in last["breaching"]["StateReason"], last["breaching"]["StateReason"]
    # ignore: the state, and the reason of the transition, are kept
    assert last["ignore"]["StateReason"] == first["ignore"]["StateReason"]
