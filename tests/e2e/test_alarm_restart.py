"""A restart of the whole stack in the middle of an alarm's life: no lost, no repeated notification.

The timeline, with ``stackwatch up`` as real processes and a real HTTP subscriber::

    up #1   breaching data ─> ALARM ─> notification (delivered, 200)
            subscriber goes down (503)
            recovering data ─> OK ─> notification retried ... SIGKILL of every process
    up #2   (same data directory; subscriber back up)
            the pending OK notification is delivered once; the ALARM one is not sent again;
            data that keeps recovering causes no new transition.

``TreatMissingData=notBreaching`` would turn the downtime into OK by itself; ``ignore`` keeps the
state across the gap, so any transition after the restart would be spurious.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.subscriber import Subscriber
from tests.e2e.upproc import ACCOUNT, AK, SK, Up, gone_within

NS = "Restart"


@pytest.fixture
def creds(tmp_path: Path) -> Path:
    path = tmp_path / "creds.json"
    path.write_text(json.dumps({"credentials": [
        {"access_key_id": AK, "secret_access_key": SK, "account_id": ACCOUNT, "user": "restart"}]}))
    return path


@pytest.fixture
def subscriber() -> Iterator[Subscriber]:
    s = Subscriber().start()
    yield s
    s.stop()


class Feeder:
    """PutMetricData of one value every second, in a thread, to whichever stack is up."""

    def __init__(self) -> None:
        self.value = 0.0
        self.client: Any = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(1.0):
            client = self.client
            if client is None:
                continue
            try:
                client.put_metric_data(Namespace=NS, MetricData=[
                    {"MetricName": "Depth", "Value": self.value, "StorageResolution": 1}])
            except Exception:  # the stack is being killed or restarted: the next second tries again
                pass

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)


def _state(cw: Any, name: str) -> str:
    return str(cw.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]["StateValue"])


def _wait_state(cw: Any, name: str, state: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while (current := _state(cw, name)) != state:
        assert time.monotonic() < deadline, f"{name} stayed {current}, expected {state}"
        time.sleep(0.2)


def _notifications(subscriber: Subscriber) -> list[str]:
    return [json.loads(body["Message"])["NewStateValue"] for body in subscriber.of("/hook", "Notification")]


def _history(cw: Any, name: str, kind: str) -> list[dict[str, Any]]:
    return list(cw.describe_alarm_history(AlarmName=name, HistoryItemType=kind)["AlarmHistoryItems"])


@pytest.mark.timeout(400)
def test_a_restart_mid_delivery_neither_loses_nor_repeats_a_notification(tmp_path: Path, creds: Path,
                                                                         subscriber: Subscriber) -> None:
    data = tmp_path / "data"
    feeder = Feeder()
    first = Up(data, creds, gateways=1)
    try:
        cw, sns = first.client(), first.client("sns")
        feeder.client = cw
        topic = sns.create_topic(Name="pager")["TopicArn"]
        sns.subscribe(TopicArn=topic, Protocol="http", Endpoint=subscriber.url("/hook"))
        confirmation = subscriber.wait("/hook", "SubscriptionConfirmation")[0]
        with urllib.request.urlopen(confirmation["SubscribeURL"], timeout=10) as answer:
            assert answer.status == 200
        cw.put_metric_alarm(
            AlarmName="depth", Namespace=NS, MetricName="Depth", Statistic="Maximum", Period=10,
            EvaluationPeriods=1, Threshold=5.0, ComparisonOperator="GreaterThanThreshold",
            TreatMissingData="ignore", AlarmActions=[topic], OKActions=[topic])

        feeder.value = 10.0
        _wait_state(cw, "depth", "ALARM")
        subscriber.wait("/hook", "Notification", count=1)
        assert _notifications(subscriber) == ["ALARM"]

        subscriber.down.add("/hook")
        feeder.value = 1.0
        _wait_state(cw, "depth", "OK")
        deadline = time.monotonic() + 30  # the OK notification is being retried against the 503s
        while len(subscriber.of("/hook", "Notification")) < 2:
            assert time.monotonic() < deadline, "the OK notification was never attempted"
            time.sleep(0.1)
        transitions = _history(cw, "depth", "StateUpdate")
        feeder.client = None
    finally:
        os.killpg(first.proc.pid, signal.SIGKILL)
        first.wait()
    assert gone_within(list(first.pids.values()), 30)
    assert [json.loads(b["Message"])["NewStateValue"] for b in subscriber.of("/hook", "Notification")][0] == "ALARM"
    attempts_before = len(subscriber.received)

    subscriber.down.discard("/hook")
    subscriber.received.clear()
    second = Up(data, creds, gateways=1)
    try:
        cw = second.client()
        feeder.client = cw
        assert _state(cw, "depth") == "OK"
        deadline = time.monotonic() + 60
        while "OK" not in _notifications(subscriber):
            assert time.monotonic() < deadline, f"the pending OK notification was lost ({attempts_before} before)"
            time.sleep(0.2)
        time.sleep(25)  # two and a half periods of recovering data, and room for any duplicate
        assert _notifications(subscriber) == ["OK"]
        assert _history(cw, "depth", "StateUpdate") == transitions  # no spurious transition
        assert _state(cw, "depth") == "OK"
        actions = _history(cw, "depth", "Action")
        summaries = sorted(item["HistorySummary"] for item in actions)
        assert summaries == [f"Successfully executed action {topic}"] * 2, summaries
        assert all(item["Timestamp"] <= dt.datetime.now(dt.UTC) for item in actions)
    finally:
        feeder.stop()
        os.killpg(second.proc.pid, signal.SIGINT)
        assert second.wait() == 0
