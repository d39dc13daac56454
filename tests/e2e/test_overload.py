"""Overload: past the gateway's limit, a quick ServiceUnavailable that boto3 retries through.

Requests past the limit are refused at once, and boto3's standard retry mode gets every one of
them through, each stored once. A stack of its own with room for two requests in flight (or one turn), and thirty-two clients at once.
"""

from __future__ import annotations

import datetime as dt
import threading
import uuid

import pytest

from tests.e2e.clients import cloudwatch
from tests.e2e.stack import TENANTS, Stack


@pytest.fixture(scope="module", params=[
    {"max_concurrent_requests": 2},  # refused at once: ServiceUnavailable
    {"max_active_requests": 1, "queue_timeout": 0.02},  # refused after queueing: Throttling
], ids=["in-flight-limit", "turns"])
def narrow_stack(request, e2e_store_url, tmp_path_factory):
    s = Stack(e2e_store_url, "e2e_" + uuid.uuid4().hex[:8], tmp_path_factory.mktemp("narrow"),
              **request.param).start()
    yield s
    s.stop()


@pytest.mark.timeout(300)
def test_clients_past_the_limit_are_refused_quickly_and_standard_retries_get_every_request_through(
        narrow_stack, tmp_path_factory):
    tenant = TENANTS["a"]
    namespace = f"Overload/{uuid.uuid4().hex[:8]}"
    start = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(minutes=5)
    retried = []
    failures: list[BaseException] = []

    clients = [cloudwatch(narrow_stack.endpoint, "json", tenant["access_key_id"], tenant["secret_access_key"],
                          tmp_path_factory.getbasetemp(), retries={"mode": "standard", "max_attempts": 30})
               for _ in range(32)]  # made here: botocore's loaders are not for concurrent first use

    def client(c: int) -> None:
        cw = clients[c]
        try:
            for i in range(10):
                r = cw.put_metric_data(Namespace=namespace, MetricData=[
                    {"MetricName": "Load", "Value": 1.0, "Timestamp": start + dt.timedelta(seconds=c * 10 + i)}])
                retried.append(r["ResponseMetadata"]["RetryAttempts"])
        except BaseException as e:  # noqa: BLE001 - reported below
            failures.append(e)

    threads = [threading.Thread(target=client, args=(c,)) for c in range(32)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(240)
    assert not failures, failures[:3]
    assert len(retried) == 320
    assert sum(1 for n in retried if n) > 0, "nothing was refused: the limit was never reached"
    cw = cloudwatch(narrow_stack.endpoint, "json", tenant["access_key_id"], tenant["secret_access_key"],
                    tmp_path_factory.getbasetemp())
    got = cw.get_metric_statistics(Namespace=namespace, MetricName="Load", Period=3600, Statistics=["SampleCount"],
                                   StartTime=start - dt.timedelta(hours=1), EndTime=start + dt.timedelta(hours=1))
    assert sum(d["SampleCount"] for d in got["Datapoints"]) == 320  # retried requests stored once
