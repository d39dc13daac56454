"""PutMetricData throughput and GetMetricStatistics latency through the whole stack.

Starts Debian's clickhouse-server on a free port (temporary data dir), then ``stackwatch serve``
auth, ingest and gateway as separate processes, like pods, all on this machine. Clients send
what current boto3 sends: JSON 1.0 bodies of ``--datums`` datums, gzipped (boto3 compresses
bodies over 10 KiB), each request freshly SigV4-signed. Bodies are serialized once up front by
botocore's own serializer, so the clients spend their CPU on signing and HTTP, not on building
dicts: we measure the server, not boto3.

Prints datapoints per second acknowledged (each 200 means the data is in ClickHouse), request
latency p50/p99, every process's RSS at the start, middle and end of the run, then the latency of
GetMetricStatistics over one day of 1-minute data (1,440 datapoints, with and without p99).

    .venv/bin/python bench/put_bench.py --seconds 60 --clients 8             # closed loop
    .venv/bin/python bench/put_bench.py --seconds 60 --rate 34 --clients 64  # 34,000 datapoints/s on schedule
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import botocore.session
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from stackwatch.store.testing import ClickHouseServer  # noqa: E402

AK, SK = "AKIABENCH00000000001", "bench-secret-0000000000000000000000000000"
ACCOUNT = "b0000000-0000-4000-8000-000000000001"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used (from /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def serializer_and_model():
    session = botocore.session.get_session()
    model = session.get_service_model("cloudwatch")
    from botocore.serialize import create_serializer

    return create_serializer("json"), model


def build_bodies(n_bodies: int, datums: int, worker: int) -> list[bytes]:
    ser, model = serializer_and_model()
    op = model.operation_model("PutMetricData")
    now = datetime.now(UTC).replace(microsecond=0)
    bodies = []
    for b in range(n_bodies):
        data = [{"MetricName": f"Metric{i % 20}",
                 "Dimensions": [{"Name": "Host", "Value": f"w{worker}-h{(i // 20) % 50}"},
                                {"Name": "Service", "Value": "api"}],
                 "Timestamp": now - timedelta(seconds=random.randint(0, 600)),
                 "Value": random.random() * 100, "Unit": "Milliseconds"} for i in range(datums)]
        req = ser.serialize_to_request({"Namespace": f"Bench/{b % 4}", "MetricData": data}, op)
        bodies.append(gzip.compress(req["body"] if isinstance(req["body"], bytes) else req["body"].encode(), 6))
    return bodies


def signed_headers(endpoint: str, target: str, body: bytes, gz: bool) -> dict[str, str]:
    headers = {"Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": f"GraniteServiceVersion20100801.{target}",
               "x-amzn-query-mode": "true"}
    if gz:
        headers["Content-Encoding"] = "gzip"
    req = AWSRequest(method="POST", url=endpoint + "/", data=body, headers=headers)
    SigV4Auth(Credentials(AK, SK), "monitoring", "us-east-1").add_auth(req)
    return dict(req.headers.items())


async def put_load(endpoint: str, clients: int, seconds: float, datums: int, procs: dict[str, int],
                   rate: float | None) -> None:
    """Closed loop (``clients`` senders, each waiting for its answer) or, with ``rate``, open loop.

    Open loop sends ``rate`` requests a second on schedule, whatever the answers do, with at most
    ``clients`` connections; latency counts from the scheduled send time, so a server falling
    behind shows as latency instead of as a slower client (no coordinated omission).
    """
    bodies = [build_bodies(4, datums, w) for w in range(min(clients, 16))]
    latencies: list[float] = []
    timeline: list[tuple[float, float]] = []
    started_at = time.perf_counter()
    ok = failed = 0
    errors: dict[str, int] = {}
    rss: dict[str, list[float]] = {name: [rss_mb(pid)] for name, pid in procs.items()}
    cpu0 = {name: cpu_seconds(pid) for name, pid in procs.items()}
    client_cpu0 = time.process_time()
    deadline = time.monotonic() + seconds

    async def send(session: aiohttp.ClientSession, body: bytes, t0: float) -> None:
        nonlocal ok, failed
        async with session.post(endpoint + "/", data=body,
                                headers=signed_headers(endpoint, "PutMetricData", body, True)) as resp:
            text = await resp.read()
        latencies.append(time.perf_counter() - t0)
        timeline.append((t0 - started_at, time.perf_counter() - t0))
        if resp.status == 200:
            ok += 1
        else:
            failed += 1
            key = f"{resp.status} {text[:120]!r}"
            errors[key] = errors.get(key, 0) + 1

    async def worker(w: int, session: aiohttp.ClientSession) -> None:
        i = 0
        while time.monotonic() < deadline:
            body = bodies[w % len(bodies)][i % 4]
            i += 1
            await send(session, body, time.perf_counter())

    async def scheduler(session: aiohttp.ClientSession) -> None:
        assert rate is not None
        tasks = set()
        start, i = time.perf_counter(), 0
        while time.monotonic() < deadline:
            due = start + i / rate
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            task = asyncio.create_task(send(session, bodies[i % len(bodies)][i % 4], due))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
            i += 1
        await asyncio.gather(*tasks)

    async def sampler() -> None:
        await asyncio.sleep(seconds / 2)
        for name, pid in procs.items():
            rss[name].append(rss_mb(pid))

    started = time.monotonic()
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=clients)) as session:
        load = [scheduler(session)] if rate else [worker(w, session) for w in range(clients)]
        await asyncio.gather(sampler(), *load)
    elapsed = time.monotonic() - started
    for name, pid in procs.items():
        rss[name].append(rss_mb(pid))
    cpu = {name: cpu_seconds(pid) - cpu0[name] for name, pid in procs.items()}
    cpu["load client"] = time.process_time() - client_cpu0
    latencies.sort()
    q = statistics.quantiles(latencies, n=100) if len(latencies) > 1 else [0.0] * 99
    dps = ok * datums / elapsed
    mode = f"open loop at {rate:g} requests/s, up to {clients} connections" if rate else f"{clients} clients"
    print(f"\nPutMetricData: {mode}, {datums} datums/request, {elapsed:.1f} s")
    print(f"  requests ok {ok}, failed {failed}  {dict(list(errors.items())[:3]) if errors else ''}")
    print(f"  throughput  {dps:,.0f} datapoints/s  = {dps * 60 / 1e6:.2f} M datapoints/min")
    print(f"  latency     p50 {q[49] * 1000:.1f} ms   p99 {q[98] * 1000:.1f} ms   max {latencies[-1] * 1000:.1f} ms")
    for name, values in rss.items():
        print(f"  RSS {name:<10} start/mid/end MB: " + " / ".join(f"{v:.0f}" for v in values))
    print("  CPU (cores busy): " + "  ".join(f"{name} {sec / elapsed:.2f}" for name, sec in cpu.items()))
    windows: dict[int, list[float]] = {}
    for sent, took in timeline:
        windows.setdefault(int(sent // 15) * 15, []).append(took)
    print("  p50 / p99 latency by 15 s of sending: " + "  ".join(
        f"{w}s {statistics.median(v) * 1000:.0f}/{sorted(v)[int(len(v) * 0.99) - 1 if len(v) > 1 else 0] * 1000:.0f}"
        for w, v in sorted(windows.items())))


async def stats_latency(endpoint: str, calls: int) -> None:
    ser, model = serializer_and_model()
    put = model.operation_model("PutMetricData")
    end = datetime.now(UTC).replace(second=0, microsecond=0)
    start = end - timedelta(days=1)
    dims = [{"Name": "Host", "Value": "one"}]
    day = [{"MetricName": "Day", "Dimensions": dims, "Timestamp": start + timedelta(minutes=m), "Value": float(m % 97)}
           for m in range(1440)]
    day += [{"MetricName": "Day", "Dimensions": dims, "Timestamp": start + timedelta(minutes=m, seconds=30),
             "Values": [1.0, 2.0, 3.0, float(m % 50)], "Counts": [5.0, 3.0, 1.0, 1.0]} for m in range(1440)]
    async with aiohttp.ClientSession() as session:
        for i in range(0, len(day), 1000):  # one day of 1-minute data, a Value and a Values/Counts per minute
            body = ser.serialize_to_request({"Namespace": "Bench/Day", "MetricData": day[i:i + 1000]}, put)["body"]
            async with session.post(endpoint + "/", data=body,
                                    headers=signed_headers(endpoint, "PutMetricData", body, False)) as r:
                assert r.status == 200, await r.text()
        get = model.operation_model("GetMetricStatistics")
        for label, extra in (("basic stats", {}), ("basic + p99", {"ExtendedStatistics": ["p99"]})):
            body = ser.serialize_to_request({
                "Namespace": "Bench/Day", "MetricName": "Day", "Dimensions": [{"Name": "Host", "Value": "one"}],
                "StartTime": start, "EndTime": end, "Period": 60,
                "Statistics": ["SampleCount", "Average", "Maximum"], **extra}, get)["body"]
            times, points = [], 0
            for _ in range(calls):
                t0 = time.perf_counter()
                async with session.post(endpoint + "/", data=body,
                                        headers=signed_headers(endpoint, "GetMetricStatistics", body, False)) as r:
                    doc = json.loads(await r.read())
                times.append(time.perf_counter() - t0)
                points = len(doc.get("Datapoints", []))
            times.sort()
            print(f"GetMetricStatistics, 1 day at 60 s ({points} datapoints), {label}: "
                  f"p50 {statistics.median(times) * 1000:.1f} ms  p99 {times[int(len(times) * 0.99) - 1] * 1000:.1f} ms")


def start_component(name: str, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    command = [str(ROOT / ".venv" / "bin" / "stackwatch"), "serve", name]
    if name in os.environ.get("BENCH_PROFILE", "").split(","):  # cProfile a component: BENCH_PROFILE=gateway
        command = [sys.executable, "-m", "cProfile", "-o", f"/tmp/bench-{name}.prof", *command]
    return subprocess.Popen(command,
                            env={**os.environ, **env}, stdout=log.open("wb"), stderr=subprocess.STDOUT)


def wait_port(port: int, timeout: float = 30) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"port {port} did not open")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--datums", type=int, default=1000)
    parser.add_argument("--stats-calls", type=int, default=50)
    parser.add_argument("--rate", type=float, default=None,
                        help="open loop: requests per second on schedule (default: closed loop)")
    parser.add_argument("--gateways", type=int, default=1,
                        help="gateway processes sharing the port with SO_REUSEPORT, as pods behind a Service")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, ClickHouseServer(Path(tmp) / "ch") as ch:
        tmpdir = Path(tmp)
        creds = tmpdir / "creds.json"
        creds.write_text(json.dumps({"credentials": [
            {"access_key_id": AK, "secret_access_key": SK, "account_id": ACCOUNT, "user": "bench"}]}))
        pa, pi, pg = free_port(), free_port(), free_port()
        key_file = tmpdir / "internal.key"
        key_file.write_bytes(os.urandom(32).hex().encode())
        env = {"STACKWATCH_LOG_LEVEL": "WARNING", "STACKWATCH_AUTH_BIND": f"127.0.0.1:{pa}",
               "STACKWATCH_INTERNAL_KEY_FILE": str(key_file), "STACKWATCH_INGEST_AUTH_ADDRESS": f"127.0.0.1:{pa}",
               "STACKWATCH_AUTH_CREDENTIALS_FILE": str(creds), "STACKWATCH_INGEST_BIND": f"127.0.0.1:{pi}",
               "STACKWATCH_INGEST_STORE_URL": ch.url, "STACKWATCH_GATEWAY_HOST": "127.0.0.1",
               "STACKWATCH_GATEWAY_PORT": str(pg), "STACKWATCH_GATEWAY_AUTH_ADDRESS": f"127.0.0.1:{pa}",
               "STACKWATCH_GATEWAY_INGEST_ADDRESS": f"127.0.0.1:{pi}"}
        if args.gateways > 1:
            env["STACKWATCH_GATEWAY_REUSE_PORT"] = "true"
        components = ["auth", "ingest"] + [f"gateway{i}" if i else "gateway" for i in range(args.gateways)]
        procs = {name: start_component(name.rstrip("0123456789"),
                                       {**env, "STACKWATCH_LOG_LEVEL": "INFO"} if name == "ingest" else env,
                                       tmpdir / f"{name}.log") for name in components}
        try:
            for port in (pa, pi, pg):
                wait_port(port)
            endpoint = f"http://127.0.0.1:{pg}"
            pids = {name: p.pid for name, p in procs.items()}
            pids["clickhouse"] = ch.pid
            asyncio.run(put_load(endpoint, args.clients, args.seconds, args.datums, pids, args.rate))
            asyncio.run(stats_latency(endpoint, args.stats_calls))
            from stackwatch.store import open_engine

            engine = open_engine(ch.url)
            parts = engine.execute("SELECT count(), sum(rows) FROM system.parts WHERE database = 'stackwatch_metrics'"
                                   " AND table = 'raw' AND active")
            engine.close()
            print(f"ClickHouse raw table: {parts[0][0]} active parts, {parts[0][1]:,} rows")
        finally:
            for p in procs.values():
                p.terminate()
            for name, p in procs.items():
                p.wait(15)
                tail = (tmpdir / f"{name}.log").read_text()[-2000:]
                for line in tail.splitlines():
                    if "ingest stopped" in line:
                        print("ingest group commit:", json.loads(line)["msg"].split(": ", 1)[1])
                if p.returncode not in (0, -15) or "Traceback" in tail:
                    print(f"--- {name} log tail ---\n{tail}")


if __name__ == "__main__":
    main()
