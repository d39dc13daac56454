"""Twice the load the stack can take: quick refusals, flat memory, and boto3 getting through anyway.

Against ``stackwatch up`` (or moto_server for comparison), for ``--seconds``:

* an open loop of 1,000-datum json requests at ``--rate`` requests/s (set it to twice the
  capacity put_bench.py measured), printing how many got 200 and how many were refused, how
  fast each kind was answered, and every process's RSS along the way;
* meanwhile ``--boto3-clients`` real boto3 clients in standard retry mode (max 20 attempts),
  each sending ``--boto3-requests`` PutMetricData calls of 100 datums: every call should succeed
  in the end, some after retries.

    .venv/bin/python bench/overload_bench.py --rate 120 --seconds 60
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from put_bench import put_load  # noqa: E402
from stacks import moto, stackwatch_up  # noqa: E402

from tests.e2e.clients import cloudwatch  # noqa: E402


def boto3_clients(target, n: int, requests: int, tmp: Path, stop_after: float) -> dict[str, float]:
    clients = [cloudwatch(target.endpoint, "json", target.access_key, target.secret_key, tmp,
                          retries={"mode": "standard", "max_attempts": 20}) for _ in range(n)]
    ok = retries = failed = 0
    lock = threading.Lock()

    def run(c: int) -> None:
        nonlocal ok, retries, failed
        for i in range(requests):
            data = [{"MetricName": f"Boto{c}", "Value": float(k), "Timestamp": datetime.now(UTC)} for k in range(100)]
            try:
                r = clients[c].put_metric_data(Namespace="Overload/Boto3", MetricData=data)
            except Exception as e:  # noqa: BLE001 - counted and shown
                with lock:
                    failed += 1
                print(f"  boto3 client {c} request {i} failed after retries: {e}")
                continue
            with lock:
                ok += 1
                retries += r["ResponseMetadata"]["RetryAttempts"]
            time.sleep(max(0.0, stop_after / requests - 0.05))

    threads = [threading.Thread(target=run, args=(c,)) for c in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {"ok": ok, "failed": failed, "retries": retries}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--target", choices=("up", "server", "moto"), default="up")
    parser.add_argument("--rate", type=float, required=True, help="requests/s of 1,000 datums (2x capacity)")
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--connections", type=int, default=256)
    parser.add_argument("--boto3-clients", type=int, default=8)
    parser.add_argument("--boto3-requests", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        stack = moto() if args.target == "moto" else stackwatch_up(clickhouse=args.target == "server")
        with stack as target:
            result: dict[str, float] = {}
            side = threading.Thread(target=lambda: result.update(boto3_clients(
                target, args.boto3_clients, args.boto3_requests, Path(tmp), args.seconds * 0.8)))
            side.start()
            asyncio.run(put_load(target, "json", args.connections, args.seconds, 1000, 0, args.rate, Path(tmp)))
            side.join()
            print(f"  boto3 (standard retries, 20 attempts): {result['ok']:.0f} calls succeeded, "
                  f"{result['failed']:.0f} failed, {result['retries']:.0f} retries in all")


if __name__ == "__main__":
    main()
