"""``stackwatch up`` as a user runs it: its processes, Ctrl-C, SIGTERM, and SIGKILL under load.

Each test runs the real command in a session of its own (as a terminal would), on the embedded
store in a temporary data directory, and talks to it with boto3.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.upproc import ACCOUNT, AK, SK, STACKWATCH, Up, alive, gone_within


@pytest.fixture
def creds(tmp_path) -> Path:
    path = tmp_path / "creds.json"
    path.write_text(json.dumps({"credentials": [
        {"access_key_id": AK, "secret_access_key": SK, "account_id": ACCOUNT, "user": "up"}]}))
    return path


@pytest.fixture
def up(tmp_path, creds) -> Iterator[Up]:
    started = Up(tmp_path / "data", creds)
    yield started
    if started.proc.poll() is None:
        os.killpg(started.proc.pid, signal.SIGKILL)
        started.wait()


@pytest.mark.timeout(300)
def test_up_runs_each_component_in_its_own_process_and_ctrl_c_stops_them_all(up):
    assert set(up.pids) == {"auth", "ingest", "autoscale", "alarm", "gateway-1", "gateway-2"}
    assert len(set(up.pids.values())) == 6 and all(alive(p) for p in up.pids.values())
    scaling = up.client("autoscaling")
    scaling.create_launch_configuration(LaunchConfigurationName="lc", ImageId="t", InstanceType="o")
    assert [c["LaunchConfigurationName"] for c in scaling.describe_launch_configurations()["LaunchConfigurations"]] \
        == ["lc"]
    cw = up.client()
    cw.put_metric_data(Namespace="Up", MetricData=[{"MetricName": "m", "Value": 1.0}])
    assert cw.list_metrics(Namespace="Up")["Metrics"] == [{"Namespace": "Up", "MetricName": "m", "Dimensions": []}]
    cw.put_metric_alarm(AlarmName="up", Namespace="Up", MetricName="m", Statistic="Sum", Period=60,
                        EvaluationPeriods=1, Threshold=0.0, ComparisonOperator="GreaterThanThreshold")
    assert [a["StateValue"] for a in cw.describe_alarms(AlarmNames=["up"])["MetricAlarms"]] == ["INSUFFICIENT_DATA"]
    os.killpg(up.proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal does: the whole foreground group
    assert up.wait() == 0
    assert gone_within(list(up.pids.values()), 30), up.text()[-3000:]
    assert "Traceback" not in up.text()


@pytest.mark.timeout(300)
def test_sigterm_to_up_alone_stops_every_component(up):
    up.proc.send_signal(signal.SIGTERM)  # as a service manager or `kill` does: the supervisor only
    assert up.wait() == 0
    assert gone_within(list(up.pids.values()), 30), up.text()[-3000:]
    assert "Traceback" not in up.text()


@pytest.mark.timeout(300)
def test_a_component_that_dies_takes_the_stack_down_with_a_clear_message(up):
    os.kill(up.pids["ingest"], signal.SIGKILL)
    assert up.wait() == 1
    assert gone_within(list(up.pids.values()), 30)
    assert re.search(r"ingest exited with status -9; stopping the others", up.text())


@pytest.mark.timeout(300)
def test_sigkill_under_load_loses_nothing_acknowledged_and_applies_nothing_twice(tmp_path, creds):
    """Eight clients write, the whole stack is SIGKILLed mid-stream, and it is started again.

    After the restart every acknowledged datum is stored exactly once (an unacknowledged one at
    most once), and the log did replay records: the kill came between fsync and INSERT.
    """
    first = Up(tmp_path / "data", creds)
    base = int(time.time()) - 3000  # high-resolution data, one second per datum: readable at period 1
    acked: dict[int, set[int]] = {c: set() for c in range(8)}
    sent: dict[int, set[int]] = {c: set() for c in range(8)}
    stop = threading.Event()

    def client(c: int) -> None:
        cw = first.client()
        i = 0
        while not stop.is_set() and i < 280:
            seconds = list(range(i * 10, i * 10 + 10))
            sent[c].update(seconds)
            data = [{"MetricName": f"client{c}", "Value": float(s), "StorageResolution": 1,
                     "Timestamp": dt.datetime.fromtimestamp(base + s, dt.UTC)} for s in seconds]
            try:
                cw.put_metric_data(Namespace="Kill", MetricData=data)
            except Exception:  # noqa: BLE001 - the stack is gone: this request was not acknowledged
                return
            acked[c].update(seconds)
            i += 1

    threads = [threading.Thread(target=client, args=(c,)) for c in range(8)]
    for t in threads:
        t.start()
    time.sleep(4)
    os.killpg(first.proc.pid, signal.SIGKILL)  # supervisor, gateways, auth and ingest at once
    stop.set()
    for t in threads:
        t.join(30)
    first.wait()
    assert gone_within(list(first.pids.values()), 10)
    assert sum(map(len, acked.values())) > 200, "the load did not get going before the kill"

    second = Up(tmp_path / "data", creds)
    replayed = re.search(r"write-ahead log .*?, (\d+) records to apply", second.text())
    assert replayed, second.text()[-3000:]
    print(f"records replayed after the kill: {replayed.group(1)}")  # visible with -s
    try:
        cw = second.client()
        start = dt.datetime.fromtimestamp(base, dt.UTC)
        for c in range(8):
            counts: dict[int, float] = {}
            for chunk in range(0, 2800, 1400):
                got = cw.get_metric_statistics(
                    Namespace="Kill", MetricName=f"client{c}", Period=1, Statistics=["SampleCount", "Sum"],
                    StartTime=start + dt.timedelta(seconds=chunk), EndTime=start + dt.timedelta(seconds=chunk + 1400))
                for d in got["Datapoints"]:
                    s = int(d["Timestamp"].timestamp()) - base
                    counts[s] = d["SampleCount"]
                    assert d["Sum"] == s * d["SampleCount"]
            assert acked[c] <= set(counts), f"client{c}: acknowledged datums lost: {sorted(acked[c] - set(counts))[:10]}"
            assert set(counts) <= sent[c]
            twice = {s: n for s, n in counts.items() if n != 1}
            assert not twice, f"client{c}: stored more than once: {dict(list(twice.items())[:10])}"
    finally:
        second.proc.send_signal(signal.SIGTERM)
        assert second.wait() == 0


@pytest.mark.timeout(300)
def test_a_component_that_cannot_start_stops_up_with_a_clear_message_and_no_leftovers(tmp_path, creds):
    import socket

    with socket.socket() as taken:  # someone else has the port
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        log = tmp_path / "up.log"
        proc = subprocess.run(
            [*STACKWATCH, "up", "--port", str(port), "--data-dir", str(tmp_path / "data"), "--credentials",
             str(creds)], stdout=log.open("wb"), stderr=subprocess.STDOUT, timeout=240, start_new_session=True)
    text = log.read_text()
    assert proc.returncode == 1, text[-3000:]
    assert re.search(r"gateway(-1)? exited with status \d+ while starting", text), text[-3000:]
    assert "Traceback" not in text.split("exited with status")[-1]
    started = [int(pid) for pid in re.findall(r"started \(pid (\d+),", text)]
    assert started and gone_within(started, 30)  # auth and ingest were stopped again
