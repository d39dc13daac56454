"""End-to-end faults on the local 2 x 2 cluster: the whole stack, real boto3 clients, processes killed.

The stack (:class:`tests.e2e.stack.Stack`) runs without its write-ahead log, as on a cluster in
production, so a PutMetricData is acknowledged only after its INSERT reached a quorum of its
shard's replicas (2 of 2 here). Tenants ``a`` and ``b`` live on shard 1, ``c`` on shard 2.

The module starts a cluster of its own (its tests kill servers and ZooKeeper, which the session's
``cluster`` must not suffer), with a 6 s ZooKeeper session timeout so a dead replica is noticed
sooner. Each test starts its own stack on a database of its own and leaves every process running.

* one replica SIGKILLed under sustained PutMetricData from both shards' tenants, then restarted:
  every acknowledged datum is stored exactly once, and shard 2's tenant never notices;
* both replicas of a shard down: its tenant's calls get a clean 503 at once (json, query, cbor),
  the other shard's tenant writes and reads as usual, and writes come back by themselves;
* ZooKeeper down: writes get a clean 503, reads go on, writes come back by themselves;
* a replica of an alarm's shard down: its state and history are still read, also by a new stack.

The tests log what they saw (calls acknowledged, retried, failed; how long refusals and recoveries
took): ``-o log_cli=true --log-cli-level=INFO`` shows them.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import botocore.exceptions
import pytest

from stackwatch.store import shard_of
from stackwatch.store.testing import ClickHouseCluster
from tests.e2e.clients import cloudwatch
from tests.e2e.stack import TENANTS, Stack

from .conftest import start_cluster

pytestmark = pytest.mark.cluster
LOG = logging.getLogger(__name__)

#: The store URL's options: quorum inserts give up waiting for a dead replica after 3 s, an insert
#: of unknown outcome is retried (identical block) for up to 30 s, ON CLUSTER DDL waits 3 s.
STORE_OPTIONS = {"insert_quorum_timeout": 3, "unknown_wait": 30, "ddl_timeout": 3}
#: The ZooKeeper session timeout of the servers (the cluster fixture's default is 10 s).
SESSION_TIMEOUT_MS = 6000


@pytest.fixture(scope="module")
def faulty_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClickHouseCluster]:
    """A 2 x 2 cluster for this module alone (its tests kill its processes)."""
    c = start_cluster(tmp_path_factory.mktemp("faulty-cluster"), zookeeper_session_timeout_ms=SESSION_TIMEOUT_MS)
    yield c
    c.stop()


def _start_stack(cluster: ClickHouseCluster, workdir: Path, database: str | None = None) -> Stack:
    database = database or f"faults_{uuid.uuid4().hex[:8]}"
    workdir.mkdir(parents=True, exist_ok=True)
    return Stack(cluster.url("default", **STORE_OPTIONS), database, workdir, wal=False).start()


@pytest.fixture
def stack(faulty_cluster: ClickHouseCluster, tmp_path: Path) -> Iterator[Stack]:
    """The whole stack on the module's cluster, ingest without a write-ahead log."""
    s = _start_stack(faulty_cluster, tmp_path / "stack")
    yield s
    s.stop()


@pytest.fixture
def client(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """``client(tenant, protocol="json", **botocore_config)``: a CloudWatch client of ``stack``."""
    def make(tenant: str, protocol: str = "json", **config: Any) -> Any:
        t = TENANTS[tenant]
        return cloudwatch(stack.endpoint, protocol, t["access_key_id"], t["secret_access_key"],
                          tmp_path_factory.getbasetemp(), **config)
    return make


def test_tenants_a_b_on_shard_1_and_c_on_shard_2() -> None:
    """The tests below rely on where each tenant's rows live."""
    assert [shard_of(TENANTS[t]["account_id"], 2) for t in "abc"] == [0, 0, 1]


# --- sustained writes -------------------------------------------------------------------------------

@dataclass
class Writer:
    """A thread putting one datum per call to its own metric: call ``i`` at ``base + i`` s, value ``i + 1``.

    Each call's datum is alone in its one-second bucket, so a read with a 1 s period shows it as a
    bucket of SampleCount 1 and Sum ``i + 1``; stored twice, as SampleCount 2.
    """

    cw: Any
    tenant: str
    metric: str
    base: dt.datetime
    namespace: str
    pause: float = 0.0
    acked: list[int] = field(default_factory=list)
    failed: dict[int, str] = field(default_factory=dict)
    retried: dict[int, int] = field(default_factory=dict)  # call -> retries botocore made
    slowest: float = 0.0

    def run(self, stop: threading.Event) -> None:
        """Put until ``stop`` is set."""
        i = 0
        while not stop.is_set():
            started = time.monotonic()
            try:
                r = self.cw.put_metric_data(Namespace=self.namespace, MetricData=[{
                    "MetricName": self.metric, "Timestamp": self.base + dt.timedelta(seconds=i),
                    "Value": float(i + 1), "StorageResolution": 1}])
                self.acked.append(i)
                retries = r["ResponseMetadata"].get("RetryAttempts", 0)
            except botocore.exceptions.ClientError as e:
                self.failed[i] = f"{e.response['Error']['Code']} (HTTP {e.response['ResponseMetadata']['HTTPStatusCode']})"
                retries = e.response["ResponseMetadata"].get("RetryAttempts", 0)
            except botocore.exceptions.BotoCoreError as e:  # timeouts and connection errors after retries
                self.failed[i] = type(e).__name__
                retries = 0
            if retries:
                self.retried[i] = retries
            self.slowest = max(self.slowest, time.monotonic() - started)
            i += 1
            stop.wait(self.pause)

    @property
    def calls(self) -> int:
        """Calls made."""
        return len(self.acked) + len(self.failed)


def per_second(cw: Any, namespace: str, metric: str, start: dt.datetime, end: dt.datetime) -> dict[int, tuple[float, float]]:
    """Second offset from ``start`` -> (SampleCount, Sum), from GetMetricData with a 1 s period."""
    stat = {"Metric": {"Namespace": namespace, "MetricName": metric}, "Period": 1}
    out: dict[str, dict[dt.datetime, float]] = {"n": {}, "s": {}}
    kwargs: dict[str, Any] = {}
    while True:
        r = cw.get_metric_data(StartTime=start, EndTime=end, ScanBy="TimestampAscending", MetricDataQueries=[
            {"Id": "n", "MetricStat": {**stat, "Stat": "SampleCount"}},
            {"Id": "s", "MetricStat": {**stat, "Stat": "Sum"}}], **kwargs)
        for result in r["MetricDataResults"]:
            out[result["Id"]].update(zip(result["Timestamps"], result["Values"], strict=True))
        if not r.get("NextToken"):
            break
        kwargs["NextToken"] = r["NextToken"]
    assert out["n"].keys() == out["s"].keys()
    return {round((t - start).total_seconds()): (out["n"][t], out["s"][t]) for t in out["n"]}


def check_exactly_once(w: Writer, stored: dict[int, tuple[float, float]]) -> dict[str, int]:
    """Every acknowledged call's datum stored once, every failed one at most once, nothing else."""
    lost = [i for i in w.acked if i not in stored]
    duplicated = [i for i in w.acked + list(w.failed) if i in stored and stored[i][0] > 1]
    wrong = [i for i, (n, s) in stored.items() if n == 1 and s != i + 1]
    unknown = [i for i in stored if i >= w.calls]
    failed_stored = [i for i in w.failed if i in stored]
    counts = {"calls": w.calls, "acked": len(w.acked), "failed": len(w.failed), "retried": len(w.retried),
              "failed_but_stored": len(failed_stored), "lost": len(lost), "duplicated": len(duplicated)}
    LOG.info("%s/%s: %s; slowest call %.1f s; failures %s", w.tenant, w.metric, counts, w.slowest,
             sorted(set(w.failed.values())))
    assert not lost, f"{w.metric}: acknowledged calls not stored: {lost[:20]}"
    assert not duplicated, f"{w.metric}: calls stored more than once: {[(i, stored[i]) for i in duplicated[:20]]}"
    assert not wrong and not unknown, f"{w.metric}: stored datums no call made: {wrong[:10]} {unknown[:10]}"
    return counts


def test_a_replica_killed_under_sustained_writes_loses_and_duplicates_nothing_acknowledged(
        faulty_cluster: ClickHouseCluster, stack: Stack, client: Any) -> None:
    """Shard 1's writes wait out the replica's absence; shard 2's go on.

    An insert of unknown outcome on shard 1 is sent again, identical, until the replica returns.
    Six writers: fewer calls at once than the gateway's turns (``max_active_requests``, 8). A call
    waiting for ingest keeps its turn, so with more writers stuck on shard 1, shard 2's tenant
    would be throttled as well.
    """
    namespace = f"Faults/{uuid.uuid4().hex[:8]}"
    base = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(minutes=30)
    retries = {"retries": {"mode": "standard"}}  # boto3's standard retries (3 attempts)
    # b1 pauses between calls, so its calls are not in step with the others' (and their retries'):
    # batches differ, and a retried batch is not deduplicated as the identical block of an earlier one
    writers = [Writer(client(t, **retries), t, f"{t}{k}", base, namespace, pause)
               for t, k, pause in (("a", 0, 0), ("a", 1, 0), ("b", 0, 0), ("b", 1, 0.2), ("c", 0, 0), ("c", 1, 0))]
    stop = threading.Event()
    threads = [threading.Thread(target=w.run, args=(stop,), name=f"writer-{w.metric}") for w in writers]
    victim = faulty_cluster.server(1, 2)
    timeline: dict[str, float] = {}
    started = time.monotonic()
    for t in threads:
        t.start()
    down = False
    try:
        _wait_for(lambda: all(len(w.acked) >= 10 for w in writers), 30, "writes before the kill")
        before = {w.metric: w.calls for w in writers}
        victim.kill()
        down = True
        timeline["killed"] = time.monotonic() - started
        # longer than the ZooKeeper session (the shard answers 319, then 286, then 285) and than
        # the gateway's former 10 s deadline for PutMetricData
        time.sleep(12)
        victim.start()  # same directory and ports
        down = False
        timeline["restarted"] = time.monotonic() - started
        after = {w.metric: w.calls for w in writers}
        _wait_for(lambda: all(len(w.acked) >= after[w.metric] + 10 for w in writers), 60, "writes after the restart")
        timeline["recovered"] = time.monotonic() - started
    finally:
        stop.set()
        for t in threads:
            t.join(120)
        if down:
            victim.start()
    LOG.info("timeline %s; calls before the kill %s, by the restart %s", timeline, before, after)
    end = base + dt.timedelta(seconds=max(w.calls for w in writers) + 5)
    totals = {w.metric: check_exactly_once(w, per_second(client(w.tenant), namespace, w.metric, base, end))
              for w in writers}
    LOG.info("totals %s", totals)
    for w in writers:
        if w.tenant == "c":  # shard 2 went on writing, and never noticed
            assert after[w.metric] > before[w.metric] + 10
            assert not w.failed and not w.retried, (w.metric, w.failed, w.retried)


def _wait_for(condition: Any, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"{what}: not within {seconds:.0f} s"
        time.sleep(0.1)


def test_the_gateway_waits_for_putmetricdata_longer_than_the_store_may_take_to_learn_an_insert_outcome() -> None:
    """Otherwise a write still settling is answered with an error, and the client's retry stores it twice."""
    from stackwatch.config import GatewaySettings
    from stackwatch.store import ClusterEngine

    engine = ClusterEngine("clickhouse://127.0.0.1:1/db?cluster=c")  # the defaults; opening does no I/O
    try:
        assert GatewaySettings().put_timeout > engine._quorum_timeout + engine._unknown_wait
        assert GatewaySettings().put_timeout < 60  # boto3's and the AWS CLI's read timeout
    finally:
        engine.close()


# --- a whole shard down ---------------------------------------------------------------------------

def _put(cw: Any, namespace: str, value: float, when: dt.datetime | None = None) -> None:
    cw.put_metric_data(Namespace=namespace, MetricData=[{
        "MetricName": "m", "Value": value, "Timestamp": when or dt.datetime.now(dt.UTC)}])


def _stats(cw: Any, namespace: str, since: dt.datetime) -> tuple[float, float]:
    """(SampleCount, Sum) of metric ``m`` from ``since`` to now, in one period."""
    end = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1)
    points = cw.get_metric_statistics(Namespace=namespace, MetricName="m", StartTime=since, EndTime=end,
                                      Period=3600, Statistics=["SampleCount", "Sum"])["Datapoints"]
    return (sum(p["SampleCount"] for p in points), sum(p["Sum"] for p in points))


def _refused(call: Any, *args: Any, **kwargs: Any) -> tuple[botocore.exceptions.ClientError, float]:
    """The error ``call(*args, **kwargs)`` fails with (it must be a clean ServiceUnavailable), and how long it took."""
    started = time.monotonic()
    with pytest.raises(botocore.exceptions.ClientError) as e:
        call(*args, **kwargs)
    err = e.value
    assert err.response["ResponseMetadata"]["HTTPStatusCode"] == 503, err.response
    assert err.response["Error"]["Code"] == "ServiceUnavailable", err.response
    return err, time.monotonic() - started


def _recovers(what: str, put: Any, *args: Any, seconds: float = 60) -> float:
    """Call ``put(*args)`` until it succeeds (each failure must be a clean ServiceUnavailable); seconds it took."""
    started = time.monotonic()
    while True:
        try:
            put(*args)
            return time.monotonic() - started
        except botocore.exceptions.ClientError as e:
            assert e.response["Error"]["Code"] == "ServiceUnavailable", e.response
            assert time.monotonic() - started < seconds, f"{what} did not recover within {seconds:.0f} s"
            time.sleep(0.5)


def test_a_shard_without_replicas_refuses_its_writes_cleanly_and_the_other_shard_carries_on(
        faulty_cluster: ClickHouseCluster, stack: Stack, client: Any) -> None:
    namespace = f"Faults/{uuid.uuid4().hex[:8]}"
    since = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    # one attempt (botocore's max_attempts counts retries; total_max_attempts counts attempts)
    once = {"retries": {"total_max_attempts": 1, "mode": "standard"}, "read_timeout": 30}
    down, up = {p: client("c", p, **once) for p in ("json", "query", "cbor")}, client("a", **once)
    _put(down["json"], namespace, 1.0)
    _put(up, namespace, 1.0)
    shard = faulty_cluster.shard_servers(2)
    for server in shard:
        server.kill()
    timings = {}
    try:
        for protocol, cw in down.items():
            err, took = _refused(_put, cw, namespace, 2.0)
            timings[protocol] = round(took, 2)
            assert err.response["ResponseMetadata"]["RetryAttempts"] == 0
        _, read_refused = _refused(_stats, down["json"], namespace, since)  # its reads too, cleanly
        for value in (2.0, 3.0):  # the other shard's tenant writes and reads as usual
            _put(up, namespace, value)
        assert _stats(up, namespace, since) == (3.0, 6.0)
        assert [m["MetricName"] for m in up.list_metrics(Namespace=namespace)["Metrics"]] == ["m"]
    finally:
        for server in shard:
            server.start()
    recovered = _recovers("writes to the restarted shard", _put, down["json"], namespace, 5.0)
    LOG.info("a shard without replicas: PutMetricData refused in %s s, GetMetricStatistics in %.1f s;"
             " writes recovered %.1f s after the restart", timings, read_refused, recovered)
    assert _stats(down["json"], namespace, since) == (2.0, 6.0)


# --- ZooKeeper down -------------------------------------------------------------------------------

def test_without_zookeeper_writes_are_refused_cleanly_reads_go_on_and_writes_come_back_by_themselves(
        faulty_cluster: ClickHouseCluster, stack: Stack, client: Any) -> None:
    namespace = f"Faults/{uuid.uuid4().hex[:8]}"
    since = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    once = {"retries": {"total_max_attempts": 1, "mode": "standard"}, "read_timeout": 30}
    cws = {t: client(t, **once) for t in "ac"}
    for cw in cws.values():
        for value in (1.0, 2.0):
            _put(cw, namespace, value)
    faulty_cluster.zookeeper.kill()
    took = {}
    try:
        for tenant, cw in cws.items():
            _, took[tenant] = _refused(_put, cw, namespace, 3.0)  # a metric seen before: the raw INSERT
            _refused(cw.put_metric_data, Namespace=namespace,  # a new one: the catalog's INSERT first
                     MetricData=[{"MetricName": "new", "Value": 4.0}])
            assert _stats(cw, namespace, since) == (2.0, 3.0)
            assert [m["MetricName"] for m in cw.list_metrics(Namespace=namespace)["Metrics"]] == ["m"]
            assert per_second(cw, namespace, "m", since, dt.datetime.now(dt.UTC) + dt.timedelta(minutes=1))
    finally:
        faulty_cluster.zookeeper.start()  # same port and data directory
    recovered = {t: _recovers(f"tenant {t}'s writes", _put, cw, namespace, 5.0) for t, cw in cws.items()}
    LOG.info("without ZooKeeper, PutMetricData refused in %s s; writes recovered %s s after its restart",
             {t: round(s, 2) for t, s in took.items()}, {t: round(s, 1) for t, s in recovered.items()})
    for cw in cws.values():
        assert _stats(cw, namespace, since) == (3.0, 8.0)


# --- alarms ---------------------------------------------------------------------------------------

def _alarm(cw: Any, name: str) -> dict[str, Any]:
    [alarm] = cw.describe_alarms(AlarmNames=[name])["MetricAlarms"]
    return dict(alarm)


def _transitions(cw: Any, name: str) -> list[str]:
    items = cw.describe_alarm_history(AlarmName=name, HistoryItemType="StateUpdate")["AlarmHistoryItems"]
    return [str(i["HistorySummary"]) for i in items]


def test_alarm_state_and_history_survive_the_loss_of_a_replica_and_a_restart_of_the_stack(
        faulty_cluster: ClickHouseCluster, stack: Stack, client: Any, tmp_path: Path) -> None:
    namespace, name = f"Faults/{uuid.uuid4().hex[:8]}", "depth"
    cw = client("a")  # the alarm's rows live on shard 1, as the tenant's datapoints do
    cw.put_metric_alarm(AlarmName=name, Namespace=namespace, MetricName="m", Statistic="Maximum", Period=10,
                        EvaluationPeriods=1, Threshold=5.0, ComparisonOperator="GreaterThanThreshold",
                        TreatMissingData="ignore")
    deadline = time.monotonic() + 40
    while _alarm(cw, name)["StateValue"] != "ALARM":
        assert time.monotonic() < deadline, f"the alarm stayed {_alarm(cw, name)['StateValue']}"
        _put(cw, namespace, 10.0)
        time.sleep(0.5)
    before = _alarm(cw, name)
    history = _transitions(cw, name)
    assert history and "to ALARM" in history[0], history
    victim = faulty_cluster.server(1, 1)
    victim.kill()
    try:
        after = _alarm(cw, name)
        assert (after["StateValue"], after["StateUpdatedTimestamp"]) == ("ALARM", before["StateUpdatedTimestamp"])
        assert _transitions(cw, name) == history
        stack.stop()  # and a new stack on the same databases, while the replica is still down
        started = time.monotonic()
        second = _start_stack(faulty_cluster, tmp_path / "second", stack.database)
        LOG.info("the stack restarted in %.1f s with a replica down", time.monotonic() - started)
        try:
            cw2 = cloudwatch(second.endpoint, "json", TENANTS["a"]["access_key_id"],
                             TENANTS["a"]["secret_access_key"], tmp_path / "models")
            again = _alarm(cw2, name)
            assert (again["StateValue"], again["StateUpdatedTimestamp"]) == ("ALARM", before["StateUpdatedTimestamp"])
            assert again["StateReason"] == before["StateReason"]
            assert _transitions(cw2, name) == history
        finally:
            second.stop()
    finally:
        victim.start()
