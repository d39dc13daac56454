"""Alarm evaluation under load: how late alarms change state while PutMetricData runs.

Runs ``stackwatch up`` (its own processes, embedded chDB store) with N metric alarms (``--alarms``, default 50,000) on M metrics
(``--metrics``, default 1,000), half of them on 10-second periods and half on 60-second periods
(``--high-res``), every one ``Maximum > 100`` over 1 period. Then:

1. **Load.** PutMetricData at ``--rate`` datapoints/s (default 10,000: 10 requests of 1,000 datums
   a second, one datum per metric each, values 0-50, high-resolution, timestamped when sent), built as put_bench
   builds its requests (a real boto3 json client, captured), re-stamped and re-signed each second.
2. **Breach.** After ``--warmup`` seconds, at the first second of a minute (T), the first
   ``--breaching`` fraction of the metrics (default 10 %) get the value 1,000 instead: every alarm
   on them must go to ALARM, the others must not.
3. **Lag.** For each breaching alarm, the end of its first breaching period is the end of the
   period that contains T (T + 9 s for a 10 s alarm, T + 59 s for a 1-minute one). Evaluation lag =
   the alarm's ``StateTransitionedTimestamp`` (read with DescribeAlarms, StateValue=ALARM) minus that
   end. Goal (issue 7): 10 s alarms within 2 s, 1-minute alarms within 5 s. The transition time is
   the ``now`` the evaluation used; the state may be written (and visible) later, so the time
   DescribeAlarms first showed the alarm in ALARM (polled every ``--poll`` s) is printed too.

Prints lag p50/p99/max per period, alarms late or never in ALARM, false alarms, PutMetricData
achieved rate and failures, the alarm process's CPU (cores busy) and RSS, and its evaluations per
minute (from its log line at stop) beside the number needed for every alarm to be evaluated once a
period. ``--alarms 1000,5000,20000`` sweeps (a fresh stack each) and reports the largest count
within both bounds.

**How the alarms are made.** The first ``--api-alarms`` (default 100) are created through the
gateway with boto3 ``put_metric_alarm`` and timed; the rest are written into the alarm service's
store before the stack starts, as the same records the service writes (``AlarmConfig`` JSON, a
definition row and an initial INSUFFICIENT_DATA state row, in one INSERT per table). Why: every
PutMetricAlarm is a read and three INSERTs serialized by the alarm writer's lock (measured at the
rate printed), so 50,000 of them would take most of an hour before the benchmark began.
The loaded alarms lack only their ConfigurationUpdate history item.

    .venv/bin/python bench/alarm_bench.py --alarms 1000
    .venv/bin/python bench/alarm_bench.py --alarms 1000,5000 --rate 10000
    .venv/bin/python bench/alarm_bench.py --alarms 50000 --evaluation-interval 1
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import math
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from put_bench import capture  # noqa: E402
from stacks import ACCOUNT, Target, cpu_seconds, rss_mb, stackwatch_up  # noqa: E402

from services.alarm.domain import initial_state  # noqa: E402
from services.alarm.domain.model import from_epoch  # noqa: E402
from services.alarm.records import AlarmConfig  # noqa: E402
from services.alarm.store import ALARM_COLUMNS, STATE_COLUMNS, AlarmStore  # noqa: E402
from services.alarm.store import METRIC as METRIC_KIND  # noqa: E402
from stackwatch.domain.arn import account_number  # noqa: E402
from stackwatch.store import AsyncEngine, open_engine  # noqa: E402
from tests.e2e.clients import cloudwatch  # noqa: E402

NS, METRIC, REGION = "Bench/Alarms", "Load", "us-east-1"
THRESHOLD, BREACH_VALUE = 100.0, 1000.0
#: Stand-in timestamp in the captured bodies, replaced by the send time of each request.
SENTINEL = datetime(2001, 1, 1, tzinfo=UTC)
BOUNDS = {10: 2.0, 60: 5.0}
CHUNK = 10_000


def alarm_spec(i: int, metrics: int, high_res: float) -> tuple[str, int, int]:
    """(name, metric index, period) of alarm ``i``: metrics in turn; a 10 s period with chance ``high_res``.

    The period is drawn from a generator seeded with ``i``, so it is the same in every run and
    not tied to the metric (each metric has alarms of both periods).
    """
    metric = i % metrics
    period = 10 if random.Random(i).random() < high_res else 60
    return f"bench-{i:06d}-h{metric}-p{period}", metric, period


def config(name: str, metric: int, period: int, now: float) -> AlarmConfig:
    """The alarm's record, as PutMetricAlarm would store it."""
    return AlarmConfig(name=name, namespace=NS, metric_name=METRIC, dimensions=(("Host", f"h{metric}"),),
                       period=period, evaluation_periods=1, threshold=THRESHOLD,
                       comparison_operator="GreaterThanThreshold", statistic="Maximum", updated=now)


def load_alarms(data_dir: Path, first: int, count: int, metrics: int, high_res: float) -> None:
    """Write alarms ``first .. count-1`` into the alarm store under ``data_dir`` (before the stack starts)."""

    async def run() -> None:
        engine = AsyncEngine(open_engine(f"chdb://{(data_dir / 'alarm-store').resolve()}"))
        store = AlarmStore(engine)
        await store.ensure_schema()
        now = time.time()
        state = initial_state(from_epoch(now))
        t0 = time.perf_counter()
        version = int(now * 1_000_000)
        for start in range(first, count, CHUNK):
            ids = range(start, min(start + CHUNK, count))
            specs = [alarm_spec(i, metrics, high_res) for i in ids]
            n = len(specs)
            names = [s[0] for s in specs]
            await engine.insert(f"{store.database}.alarms", ALARM_COLUMNS, {
                "account": [ACCOUNT] * n, "name": names, "version": [version + i for i in ids], "deleted": [0] * n,
                "arn": [f"arn:aws:cloudwatch:{REGION}:{account_number(ACCOUNT)}:alarm:{name}" for name in names],
                "namespace": [NS] * n, "metric": [METRIC] * n, "kind": [METRIC_KIND] * n,
                "config": [config(name, m, p, now).to_json() for name, m, p in specs]})
            ms = round(now * 1000)
            await engine.insert(f"{store.database}.states", STATE_COLUMNS, {
                "account": [ACCOUNT] * n, "name": names, "version": [version + i for i in ids],
                "value": [str(state.value)] * n, "reason": [state.reason] * n, "reason_data": [""] * n,
                "has_reason_data": [0] * n, "updated_ms": [ms] * n, "transitioned_ms": [ms] * n})
        print(f"  loaded {max(0, count - first):,} alarms into the store in {time.perf_counter() - t0:.1f} s",
              flush=True)
        engine.close()

    data_dir.mkdir(parents=True, exist_ok=True)
    asyncio.run(run())


class Loader:
    """PutMetricData requests of one datum per metric, re-stamped and re-signed for each send."""

    def __init__(self, target: Target, metrics: int, per_request: int, breaching: int, tmp: Path) -> None:
        self._creds = Credentials(target.access_key, target.secret_key)
        self._templates: dict[bool, list[tuple[str, dict[str, str], str]]] = {}
        for breach in (False, True):
            calls = []
            for start in range(0, metrics, per_request):
                data = [{"MetricName": METRIC, "Dimensions": [{"Name": "Host", "Value": f"h{m}"}],
                         "Timestamp": SENTINEL, "StorageResolution": 1,  # 10 s alarms need 1 s data
                         "Value": BREACH_VALUE if breach and m < breaching else round(random.random() * 50, 3)}
                        for m in range(start, min(start + per_request, metrics))]
                calls.append(("put_metric_data", {"Namespace": NS, "MetricData": data}))
            self._templates[breach] = [(url, headers, _body_text(headers, body))
                                       for url, headers, body in capture(target, "json", calls, tmp)]
        self.requests_per_round = len(self._templates[False])

    def request(self, i: int, breach: bool, now: float) -> tuple[str, dict[str, str], bytes]:
        """Request ``i`` of a round, timestamped ``now``, signed now."""
        url, headers, text = self._templates[breach][i % self.requests_per_round]
        body = text.replace(str(int(SENTINEL.timestamp())), str(int(now))).encode()
        if headers.get("Content-Encoding") == "gzip":
            body = gzip.compress(body, compresslevel=1)
        keep = {k: v for k, v in headers.items() if k.lower() not in ("authorization", "x-amz-date",
                                                                      "content-length", "x-amz-security-token")}
        aws = AWSRequest(method="POST", url=url, data=body, headers=keep)
        SigV4Auth(self._creds, "monitoring", REGION).add_auth(aws)
        return url, {k: v for k, v in aws.headers.items()}, body


def _body_text(headers: dict[str, str], body: bytes) -> str:
    text = (gzip.decompress(body) if headers.get("Content-Encoding") == "gzip" else body).decode()
    assert str(int(SENTINEL.timestamp())) in text, "the json protocol's timestamp is not where expected"
    return text


async def put_load(loader: Loader, rate: float, per_request: int, stop: asyncio.Event,
                   breaching: Callable[[float], bool], counts: dict[str, int]) -> None:
    """Open loop: ``rate / per_request`` requests a second until ``stop``; failures counted."""
    interval = per_request / rate
    tasks: set[asyncio.Task[None]] = set()

    async def send(session: aiohttp.ClientSession, i: int, now: float) -> None:
        url, headers, body = await asyncio.to_thread(loader.request, i, breaching(now), now)
        try:
            async with session.post(url, data=body, headers=headers) as resp:
                text = await resp.read()
                key = "ok" if resp.status == 200 else f"{resp.status} {text[:80]!r}"
                counts[key] = counts.get(key, 0) + 1
        except aiohttp.ClientError as e:
            counts[type(e).__name__] = counts.get(type(e).__name__, 0) + 1

    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=32)) as session:
        start, i = time.time(), 0
        while not stop.is_set():
            due = start + i * interval
            await asyncio.sleep(max(0.0, due - time.time()))
            task = asyncio.create_task(send(session, i, time.time()))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            i += 1
        await asyncio.gather(*tasks)


def create_through_api(target: Target, count: int, metrics: int, high_res: float, tmp: Path) -> float:
    """PutMetricAlarm through the gateway for alarms ``0 .. count-1``; alarms per second."""
    client = cloudwatch(target.endpoint, "json", target.access_key, target.secret_key, tmp)
    t0 = time.perf_counter()
    for i in range(count):
        name, metric, period = alarm_spec(i, metrics, high_res)
        client.put_metric_alarm(AlarmName=name, Namespace=NS, MetricName=METRIC,
                                Dimensions=[{"Name": "Host", "Value": f"h{metric}"}], Period=period,
                                EvaluationPeriods=1, Threshold=THRESHOLD, ComparisonOperator="GreaterThanThreshold",
                                Statistic="Maximum")
    return count / (time.perf_counter() - t0) if count else 0.0


def alarmed(target: Target, tmp: Path) -> dict[str, float]:
    """{alarm name: StateTransitionedTimestamp} of every alarm in ALARM (when its value last changed).

    Not StateUpdatedTimestamp: that also moves when only the reason changes (each evaluation of
    a breaching alarm names new datapoints), which would count later evaluations as lag.
    """
    client = cloudwatch(target.endpoint, "json", target.access_key, target.secret_key, tmp,
                        retries={"max_attempts": 5, "mode": "standard"})
    found: dict[str, float] = {}
    for page in client.get_paginator("describe_alarms").paginate(StateValue="ALARM", AlarmTypes=["MetricAlarm"]):
        for alarm in page["MetricAlarms"]:
            found[alarm["AlarmName"]] = alarm["StateTransitionedTimestamp"].timestamp()
    return found


def quantiles(values: list[float]) -> str:
    if not values:
        return "none"
    values = sorted(values)
    p99 = values[min(len(values) - 1, math.ceil(0.99 * len(values)) - 1)]
    return (f"p50 {statistics.median(values):6.2f} s   p99 {p99:6.2f} s   max {values[-1]:6.2f} s"
            f"   ({len(values)} alarms)")


def run_one(args: argparse.Namespace, count: int) -> dict[int, list[float]]:
    """One stack, ``count`` alarms; prints the figures and returns the lags by period."""
    os.environ["STACKWATCH_ALARM_EVALUATION_INTERVAL"] = str(args.evaluation_interval)
    breaching_metrics = round(args.metrics * args.breaching)
    api = min(args.api_alarms, count)
    print(f"\n=== {count:,} alarms on {args.metrics:,} metrics ({args.high_res:.0%} at 10 s), PutMetricData "
          f"{args.rate:,.0f} datapoints/s, scheduler pass every {args.evaluation_interval:g} s", flush=True)
    specs = [alarm_spec(i, args.metrics, args.high_res) for i in range(count)]
    with tempfile.TemporaryDirectory() as tmpdir, stackwatch_up(
            log_level="INFO", prepare=lambda d: load_alarms(d, api, count, args.metrics, args.high_res)) as target:
        tmp = Path(tmpdir)
        up_at = time.time()
        rate = create_through_api(target, api, args.metrics, args.high_res, tmp)
        if api:
            print(f"  created {api} alarms through the gateway (PutMetricAlarm, boto3, one at a time): "
                  f"{rate:.0f} alarms/s", flush=True)
        pid = target.pids["alarm"]
        loader = Loader(target, args.metrics, args.per_request, breaching_metrics, tmp)
        now = time.time()
        breach_at = (math.floor((now + args.warmup) / 60) + 1) * 60 + 1.0
        stop = asyncio.Event()
        counts: dict[str, int] = {}
        seen: dict[str, float] = {}  # alarm name -> when DescribeAlarms was first asked and showed it in ALARM

        async def drive() -> dict[str, float]:
            load = asyncio.create_task(put_load(loader, args.rate, args.per_request, stop,
                                                lambda t: t >= breach_at, counts))
            cpu0, t0 = cpu_seconds(pid), time.time()
            await asyncio.sleep(breach_at - time.time())
            print(f"  breach at {datetime.fromtimestamp(breach_at, UTC):%H:%M:%S} "
                  f"({breach_at - up_at:.0f} s after start): {breaching_metrics} metrics go to {BREACH_VALUE:g}",
                  flush=True)
            # Poll until every breaching alarm is in ALARM, or the 1-minute ones are very late.
            names = {name for name, metric, _ in specs if metric < breaching_metrics}
            found: dict[str, float] = {}
            deadline = breach_at + 59 + args.patience
            while time.time() < deadline:
                await asyncio.sleep(args.poll)
                asked = time.time()
                found = await asyncio.to_thread(alarmed, target, tmp)
                for name in found:
                    seen.setdefault(name, asked)
                if names <= set(found):
                    break
            cpu = (cpu_seconds(pid) - cpu0) / (time.time() - t0)
            stop.set()
            await load
            elapsed = time.time() - t0
            ok = counts.get("ok", 0)
            print(f"  PutMetricData: {ok * args.per_request / elapsed:,.0f} datapoints/s acknowledged over "
                  f"{elapsed:.0f} s; not ok: {({k: v for k, v in counts.items() if k != 'ok'}) or 'none'}")
            print(f"  alarm process: CPU {cpu:.2f} cores busy, RSS {rss_mb(pid):.0f} MB")
            return found

        found = asyncio.run(drive())
        stack_seconds = time.time() - up_at
    lags: dict[int, list[float]] = {10: [], 60: []}
    visible: dict[int, list[float]] = {10: [], 60: []}
    never: dict[int, int] = {10: 0, 60: 0}
    false = 0
    for name, metric, period in specs:
        if metric >= breaching_metrics:
            false += name in found
            continue
        period_end = math.floor(breach_at / period) * period + period
        if name in found:
            lags[period].append(found[name] - period_end)
            visible[period].append(seen[name] - period_end)
        else:
            never[period] += 1
    n10 = sum(1 for _, _, period in specs if period == 10)
    for period, values in lags.items():
        late = sum(v > BOUNDS[period] for v in values)
        print(f"  lag, {period:2d} s alarms: {quantiles(values)};  over {BOUNDS[period]:g} s: {late},"
              f" never in ALARM: {never[period]}")
        print(f"      first seen in ALARM by DescribeAlarms (asked every {args.poll:g} s): {quantiles(visible[period])}")
    print(f"  false alarms (not breaching, in ALARM): {false}")
    print(f"  evaluations needed for each alarm once a period: {n10 * 6 + (count - n10):,}/min; the alarm "
          f"process logs its total at stop, just above (the polling scheduler counts a pass when it ends, so a"
          f" pass still running is missing), over the stack's {stack_seconds:.0f} s")
    for period in lags:
        lags[period] += [math.inf] * never[period]
    return lags


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--alarms", default="50000", help="alarm count, or counts separated by commas (a sweep)")
    parser.add_argument("--metrics", type=int, default=1000, help="metrics the alarms watch (default 1000)")
    parser.add_argument("--high-res", type=float, default=0.5, help="fraction of alarms on 10 s periods")
    parser.add_argument("--breaching", type=float, default=0.1, help="fraction of metrics that breach")
    parser.add_argument("--rate", type=float, default=10_000, help="PutMetricData datapoints per second")
    parser.add_argument("--per-request", type=int, default=1000, help="datums per PutMetricData request")
    parser.add_argument("--warmup", type=float, default=30, help="seconds of load before the breach (at least)")
    parser.add_argument("--patience", type=float, default=30,
                        help="seconds past the 1-minute alarms' period end to wait for stragglers")
    parser.add_argument("--poll", type=float, default=2.0, help="seconds between DescribeAlarms polls")
    parser.add_argument("--api-alarms", type=int, default=100, help="alarms created through the gateway, timed")
    parser.add_argument("--evaluation-interval", type=float, default=5.0,
                        help="STACKWATCH_ALARM_EVALUATION_INTERVAL (the product default is 5)")
    args = parser.parse_args()
    if args.metrics % args.per_request and args.metrics > args.per_request:
        parser.error("--metrics must be a multiple of --per-request")
    results = {}
    for count in (int(c) for c in args.alarms.split(",")):
        results[count] = run_one(args, count)
    within = [c for c, lags in results.items()
              if all(v and sorted(v)[min(len(v) - 1, math.ceil(0.99 * len(v)) - 1)] <= BOUNDS[p]
                     for p, v in lags.items())]
    print(f"\nlargest alarm count with p99 lag within {BOUNDS[10]:g} s (10 s) and {BOUNDS[60]:g} s (60 s): "
          f"{max(within):,}" if within else "\nno alarm count tried kept p99 lag within the bounds")


if __name__ == "__main__":
    main()
